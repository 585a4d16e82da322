"""What the ledger shows: a case's timeline, its public status, the review queue, the registry,
notice-and-takedown timing. Read-only queries over `pipeline/ledger/store.py`'s tables."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import func, select

from pipeline.ledger.facts import iso
from pipeline.ledger.store import Ledger
from pipeline.ledger.tables import appeals, cases, entries
from pipeline.ledger.tables import registry as rt  # `registry` is the view below
from schemas import Envelope
from schemas.ledger import (
    Appeal,
    LedgerEntry,
    NtdFigure,
    NtdReport,
    NtdRow,
    PendingAppeal,
    PublicStatus,
    RegistryEntry,
    RegistryPage,
    ReviewItem,
)

# The producer name of an input event that `hotline case replay --execute` re-issued.
REPLAY_PRODUCER = "hotline-replay"
CSAM = "csam"
_CLOSED_DEFAULT = "The case was closed."


def timeline(ledger: Ledger, case_id: str) -> list[LedgerEntry]:
    """The case's history in its order; events made by a replay say which."""
    with ledger.engine.connect() as conn:
        rows = conn.execute(
            select(entries).where(entries.c.case_id == case_id).order_by(entries.c.seq)
        ).mappings()
        found = [dict(row) for row in rows]
    replays: dict[str, str] = {}
    history = []
    for row in found:
        payload = orjson.loads(row["payload"])
        replay = _replay_of(row, payload, replays)
        if replay is not None:
            replays[row["entry_id"]] = replay
        history.append(
            LedgerEntry.model_validate(
                {
                    **{k: row[k] for k in _ENTRY_COLUMNS},
                    "at": row["at"],
                    "replay": replay,
                    "payload": payload,
                }
            )
        )
    return history


_ENTRY_COLUMNS = (
    "case_id",
    "seq",
    "entry_id",
    "topic",
    "kind",
    "stage",
    "outcome",
    "reason",
    "rule",
    "actor",
    "summary",
    "prev_hash",
    "entry_hash",
)


def _replay_of(row: Mapping[str, Any], payload: Any, replays: Mapping[str, str]) -> str | None:
    producer = payload.get("producer") if isinstance(payload, dict) else None
    if isinstance(producer, dict) and producer.get("service") == REPLAY_PRODUCER:
        return str(producer.get("version"))
    causation = row["causation_id"]
    return replays.get(causation) if causation else None


def case_state(ledger: Ledger, case_id: str) -> Envelope | None:
    """The case as its latest stage event has it."""
    query = (
        select(entries.c.payload)
        .where(entries.c.case_id == case_id, entries.c.kind == "envelope")
        .order_by(entries.c.seq.desc())
        .limit(1)
    )
    with ledger.engine.connect() as conn:
        payload = conn.execute(query).scalar()
    return Envelope.model_validate_json(payload) if payload else None


def public_status(ledger: Ledger, case_id: str) -> PublicStatus | None:
    with ledger.engine.connect() as conn:
        row = conn.execute(select(cases).where(cases.c.case_id == case_id)).mappings().first()
    if row is None or row["status"] is None:
        return None
    reason = code = None
    if row["status"] == "closed":
        code = row["status_reason"]
        reason = ledger.sentences.get(code or "", _CLOSED_DEFAULT)
    kinds = row["forwarded_to"] or ""
    return PublicStatus(
        case_id=case_id,
        status=row["status"],
        since=row["status_at"],
        reason=reason,
        reason_code=code,
        forwarded_to=[k for k in kinds.split(",") if k] if row["status"] == "forwarded" else [],
    )


def review_queue(ledger: Ledger) -> list[ReviewItem]:
    """Cases waiting for an analyst, oldest first."""
    with ledger.engine.connect() as conn:
        waiting = conn.execute(
            select(cases.c.case_id, cases.c.review_since)
            .where(cases.c.review_since.is_not(None))
            .order_by(cases.c.review_since)
        ).all()
        items = []
        for case_id, since in waiting:
            payload = conn.execute(
                select(entries.c.payload)
                .where(
                    entries.c.case_id == case_id,
                    entries.c.stage == "categorize",
                    entries.c.outcome == "review",
                )
                .order_by(entries.c.seq.desc())
                .limit(1)
            ).scalar()
            if payload:
                items.append(
                    ReviewItem(
                        case_id=case_id,
                        waiting_since=since,
                        envelope=Envelope.model_validate_json(payload),
                    )
                )
    return items


def _entry(row: Mapping[Any, Any]) -> RegistryEntry:
    return RegistryEntry.model_validate(
        {
            name: row[name]
            for name in RegistryEntry.model_fields
            if name in row and name != "status_key"
        }
    )


def registry_entry(ledger: Ledger, entry_id: str) -> RegistryEntry | None:
    """A listed entry (child-abuse entries are never listed, so never found here)."""
    with ledger.engine.connect() as conn:
        row = (
            conn.execute(select(rt).where(rt.c.entry_id == entry_id, rt.c.category != CSAM))
            .mappings()
            .first()
        )
    return _entry(row) if row else None


def registry(
    ledger: Ledger,
    *,
    category: str | None = None,
    status: str | None = None,
    search: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> RegistryPage:
    """Listed entries, newest first, filtered; child-abuse entries only counted."""
    listed = rt.c.category != CSAM
    conditions = [listed]
    if category:
        conditions.append(rt.c.category == category)
    if status:
        conditions.append(rt.c.status == status)
    if search:
        conditions.append(func.lower(rt.c.domain).contains(search.lower(), autoescape=True))
    with ledger.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(rt).where(*conditions)).scalar()
        rows = conn.execute(
            select(rt)
            .where(*conditions)
            .order_by(rt.c.decided_at.desc(), rt.c.entry_id)
            .offset(offset)
            .limit(limit)
        ).mappings()
        listed_entries = [_entry(row) for row in rows]
        withheld = conn.execute(
            select(func.count()).select_from(rt).where(rt.c.category == CSAM)
        ).scalar()
    return RegistryPage(
        entries=listed_entries,
        total=total or 0,
        offset=offset,
        limit=limit,
        withheld_csam=withheld or 0,
    )


def pending_appeals(ledger: Ledger) -> list[PendingAppeal]:
    with ledger.engine.connect() as conn:
        rows = conn.execute(
            select(appeals.c.payload, rt)
            .join(rt, rt.c.entry_id == appeals.c.entry_id)
            .where(appeals.c.outcome.is_(None))
            .order_by(appeals.c.submitted_at)
        ).mappings()
        return [
            PendingAppeal(appeal=Appeal.model_validate_json(row["payload"]), entry=_entry(row))
            for row in rows
        ]


_STEPS = {
    "to_verification": "verified_at",
    "to_dispatch": "dispatched_at",
    "to_delivery": "delivered_at",
    "to_confirmation": "confirmed_at",
}


def ntd(ledger: Ledger, since: datetime | None = None) -> NtdReport:
    """From the report to verification, dispatch, delivery and confirmation: per category and
    for all, the median and 90th percentile over the cases that got that far."""
    query = select(cases.c.category, cases.c.reported_at, *(cases.c[c] for c in _STEPS.values()))
    query = query.where(cases.c.reported_at.is_not(None))
    if since is not None:
        query = query.where(cases.c.reported_at >= iso(since))
    seconds: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    with ledger.engine.connect() as conn:
        for row in conn.execute(query).mappings():
            start = _moment(row["reported_at"])
            for step, column in _STEPS.items():
                if row[column] is not None:
                    took = (_moment(row[column]) - start).total_seconds()
                    for group in (row["category"] or "other", "all"):
                        seconds[group][step].append(max(took, 0.0))
    groups = sorted(k for k in seconds if k != "all") + (["all"] if "all" in seconds else [])
    return NtdReport(
        since=since,
        rows=[
            NtdRow(category=group, **{step: _figure(seconds[group][step]) for step in _STEPS})
            for group in groups
        ],
    )


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _figure(values: list[float]) -> NtdFigure:
    if not values:
        return NtdFigure(cases=0, median_s=None, p90_s=None)
    ordered = sorted(values)
    return NtdFigure(
        cases=len(ordered), median_s=_percentile(ordered, 0.5), p90_s=_percentile(ordered, 0.9)
    )


def _percentile(ordered: list[float], share: float) -> float:
    """Nearest rank: a value some case really had."""
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]
