"""The queues operations watch, read from the case ledger: cases waiting for an analyst, and
notices past their deadline that no one has confirmed.

Read-only queries over the ledger's tables (`pipeline/ledger/tables.py`). The review queue is
counted as `pipeline.ledger.views.review_queue` lists it, without reading every waiting case's
envelope. Notices are read incrementally: a notice's deadline never changes, so each is read
once and only what the ledger added since the last round is asked for.
"""

from __future__ import annotations

from datetime import datetime

import orjson
from sqlalchemy import exists, func, select

from pipeline.ledger.store import Ledger
from pipeline.ledger.tables import cases, entries
from schemas.monitor import QueueFigures

_NOTICE = "notice"
_RECEIPT = "delivery_receipt"
_CONFIRMED = "confirmed"
_OVERLAP_ROWS = 1000


def review_waiting(ledger: Ledger, now: datetime) -> tuple[int, float | None]:
    """How many cases wait for an analyst, and the oldest one's age in seconds."""
    queued = exists().where(
        entries.c.case_id == cases.c.case_id,
        entries.c.stage == "categorize",
        entries.c.outcome == "review",
    )
    query = select(func.count(), func.min(cases.c.review_since)).where(
        cases.c.review_since.is_not(None), queued
    )
    with ledger.engine.connect() as conn:
        count, oldest = conn.execute(query).one()
    if not count or oldest is None:
        return 0, None
    return int(count), max((now - datetime.fromisoformat(oldest)).total_seconds(), 0.0)


class OverdueNotices:
    """Notices whose deadline has passed without a `confirmed` receipt (a `manual` receipt is
    a person still to act; its later confirmation ends the wait, as any other's)."""

    def __init__(self) -> None:
        self.deadlines: dict[str, float] = {}  # notice entry id → deadline (UNIX s), unconfirmed
        self.confirmed: set[str] = set()  # entry ids of the notices confirmed
        self._after = 0  # the last ledger row read

    def refresh(self, ledger: Ledger) -> None:
        with ledger.engine.connect() as conn:
            newest = conn.execute(select(func.max(entries.c.id))).scalar() or 0
            if newest < self._after:  # the ledger was emptied and rebuilt: read it anew
                self.deadlines, self.confirmed, self._after = {}, set(), 0
            # Rows are read again from a little before the last one read: a transaction that
            # took its ids first may commit after a later one (PostgreSQL's sequences).
            start = max(self._after - _OVERLAP_ROWS, 0)
            rows = conn.execute(
                select(entries.c.id, entries.c.kind, entries.c.entry_id, entries.c.causation_id,
                       entries.c.payload)
                .where(
                    entries.c.id > start,
                    (entries.c.kind == _NOTICE)
                    | ((entries.c.kind == _RECEIPT) & (entries.c.outcome == _CONFIRMED)),
                )
                .order_by(entries.c.id)
            ).all()  # fmt: skip
        for row_id, kind, entry_id, causation_id, payload in rows:
            self._after = max(self._after, row_id)
            if kind == _RECEIPT:
                if causation_id:  # `notice:<key>`, the notice's own entry id
                    self.deadlines.pop(causation_id, None)
                    self.confirmed.add(causation_id)
                continue
            if entry_id in self.confirmed:
                continue  # a notice chained again (a new row) or read again: still confirmed
            deadline = orjson.loads(payload).get("deadline")
            if isinstance(deadline, str):
                self.deadlines[entry_id] = datetime.fromisoformat(deadline).timestamp()

    def count(self, now: datetime) -> int:
        moment = now.timestamp()
        return sum(1 for deadline in self.deadlines.values() if deadline < moment)


def queue_figures(ledger: Ledger, overdue: OverdueNotices, now: datetime) -> QueueFigures:
    overdue.refresh(ledger)
    waiting, oldest = review_waiting(ledger, now)
    return QueueFigures(
        review_waiting=waiting, review_oldest_age_s=oldest, notices_overdue=overdue.count(now)
    )


def overdue_notices(ledger: Ledger, now: datetime) -> int:
    """Notices past their deadline, unconfirmed, counted in one go (the monitor keeps an
    `OverdueNotices` between rounds instead)."""
    tracker = OverdueNotices()
    tracker.refresh(ledger)
    return tracker.count(now)
