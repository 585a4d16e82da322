"""Analysts' decisions on cases waiting in review, made alike by the CLI and the gateway."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from schemas import Category, ReviewDecision


def new_decision(
    case_id: str, verdict: str, category: Category | None, note: str, reviewer: str
) -> ReviewDecision:
    """A decision with an id of its own: the categorize stage takes the first one per case and
    answers each by this id, so a redelivered decision is taken once."""
    return ReviewDecision(
        decision_id=f"{case_id}:{uuid.uuid4().hex[:12]}",
        case_id=case_id,
        verdict=verdict,
        category=category,
        reviewer=reviewer,
        note=note,
        decided_at=datetime.now(UTC),
    )
