"""The review queue and overdue notices as the monitor reads them from the ledger."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipeline.config import Settings
from pipeline.ledger import views
from pipeline.ledger.store import Ledger, LedgerMessage, ledger_topics
from pipeline.monitor.queues import OverdueNotices, overdue_notices, queue_figures, review_waiting
from pipeline.runtime.topics import DELIVERIES, NOTICES
from pipeline.sandbox.histories import case_history, receipt_for
from schemas import Category
from schemas.dispatch import Notice

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(f"sqlite:///{tmp_path / 'ledger.db'}", topic_kinds=ledger_topics(Settings()))


def notices_of(messages: list[LedgerMessage]) -> list[Notice]:
    return [Notice.model_validate_json(m.value) for m in messages if m.topic == NOTICES]


def test_review_queue_is_counted_as_the_view_lists_it(ledger: Ledger) -> None:
    now = START + timedelta(hours=2)
    assert review_waiting(ledger, now) == (0, None)
    ledger.record(case_history("HL-QUEU-0001", "a.kz", Category.drugs, START, ending="review"))
    ledger.record(
        case_history("HL-QUEU-0002", "b.kz", Category.hate, START + timedelta(minutes=30),
                     ending="review")
    )  # fmt: skip
    ledger.record(case_history("HL-QUEU-0003", "c.kz", Category.gambling, START))
    waiting, oldest = review_waiting(ledger, now)
    queue = views.review_queue(ledger)
    assert waiting == len(queue) == 2
    assert oldest == pytest.approx((now - queue[0].waiting_since).total_seconds())


def test_notices_past_their_deadline_without_confirmation_are_overdue(ledger: Ledger) -> None:
    late = case_history("HL-QUEU-0004", "a.kz", Category.gambling, START, confirmed=False)
    done = case_history("HL-QUEU-0005", "b.kz", Category.gambling, START, confirmed=True)
    ledger.record(late + done)
    [notice] = notices_of(late)
    before, after = notice.deadline - timedelta(minutes=1), notice.deadline + timedelta(minutes=1)
    assert overdue_notices(ledger, before) == 0
    assert overdue_notices(ledger, after) == 1  # delivered is not confirmed; the other is
    tracker = OverdueNotices()
    figures = queue_figures(ledger, tracker, after)
    assert figures.notices_overdue == 1 and figures.review_waiting == 0
    # Read incrementally: a new late case counts, a confirmation ends the wait.
    more = case_history("HL-QUEU-0006", "c.kz", Category.gambling, START, blocking=True,
                        confirmed=False)  # fmt: skip
    ledger.record(more)
    assert queue_figures(ledger, tracker, after).notices_overdue == 3
    confirmation = receipt_for(notice, "confirmed", after)
    ledger.record([LedgerMessage(DELIVERIES, confirmation.model_dump_json().encode())])
    assert queue_figures(ledger, tracker, after).notices_overdue == 2
    assert overdue_notices(ledger, after) == 2
    # A rebuilt ledger (emptied, ids counted again) is read anew.
    ledger.reset()
    assert queue_figures(ledger, tracker, after).notices_overdue == 0
    ledger.record(late)
    assert queue_figures(ledger, tracker, after).notices_overdue == 1
