"""The reviewers' work the gateway publishes: decisions on cases, appeals and their outcomes.

The gateway only publishes; the categorize stage (decisions) and the ledger (appeals) judge
what becomes of them, and the stage's receipt says whose decision was first.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Literal

from pipeline.decisions import new_decision
from pipeline.gateway.context import Gateway
from pipeline.ledger import views
from pipeline.runtime.topics import APPEALS, REVIEW_DECISIONS
from schemas import Category, ReviewDecision
from schemas.ledger import Appeal, AppealDecision, PendingAppeal, RegistryEntry, ReviewItem


class NotADecision(ValueError):
    """`corrected` without a category, or a category with another verdict."""


def waiting(gw: Gateway, case_id: str) -> ReviewItem | None:
    return next((i for i in views.review_queue(gw.ledger) if i.case_id == case_id), None)


def pending_appeal(gw: Gateway, appeal_id: str) -> PendingAppeal | None:
    return next(
        (p for p in views.pending_appeals(gw.ledger) if p.appeal.appeal_id == appeal_id), None
    )


def listed_entry(gw: Gateway, entry_id: str) -> RegistryEntry | None:
    """A registry entry the public may see and appeal: never a child-abuse one."""
    entry = views.registry_entry(gw.ledger, entry_id)
    return None if entry is None or entry.category == Category.csam else entry


def decision(
    case_id: str, verdict: str, category: Category | None, note: str, reviewer: str
) -> ReviewDecision:
    if (verdict == "corrected") != (category is not None):
        raise NotADecision("a category goes with `corrected`, and only with it")
    return new_decision(case_id, verdict, category, note, reviewer)


async def publish_decision(gw: Gateway, made: ReviewDecision) -> None:
    await gw.publisher.publish(
        REVIEW_DECISIONS, made.model_dump_json().encode(), made.case_id.encode()
    )


def new_appeal(entry: RegistryEntry, grounds: str) -> Appeal:
    return Appeal(
        appeal_id=f"AP-{uuid.uuid4().hex[:20].upper()}",
        entry_id=entry.entry_id,
        case_id=entry.case_id,
        submitted_at=datetime.now(UTC),
        grounds=grounds,
    )


def appeal_decision(
    pending: PendingAppeal, outcome: Literal["upheld", "lifted"], reason: str, reviewer: str
) -> AppealDecision:
    return AppealDecision(
        appeal_id=pending.appeal.appeal_id,
        entry_id=pending.appeal.entry_id,
        case_id=pending.appeal.case_id,
        outcome=outcome,
        reason=reason,
        reviewer=reviewer,
        decided_at=datetime.now(UTC),
    )


async def publish_appeal(gw: Gateway, record: Appeal | AppealDecision) -> None:
    # Keyed by case id, as every case record: the ledger folds it into the case's history.
    await gw.publisher.publish(APPEALS, record.model_dump_json().encode(), record.case_id.encode())
