"""What the ledger shows: the timeline, the public status, the review queue, the registry with
its appeals, and notice-and-takedown timing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pipeline.ledger import views
from pipeline.ledger.store import Ledger, LedgerMessage
from pipeline.runtime.topics import APPEALS
from pipeline.sandbox.histories import case_history
from schemas import Category
from schemas.ledger import Appeal, AppealDecision
from tests.pipeline.ledger.test_store import START, open_ledger


def filled(url: str) -> Ledger:
    ledger = open_ledger(url)
    ledger.sentences = {"content_removed": "The content was removed before we checked it."}
    ledger.record(
        case_history("HL-VIEW-0001", "casino.kz", Category.gambling, START, blocking=True)
    )
    ledger.record(case_history("HL-VIEW-0002", "abuse.kz", Category.csam, START, blocking=True))
    ledger.record(
        case_history("HL-VIEW-0003", "gone.kz", Category.hate, START, ending="terminated")
    )
    ledger.record(
        case_history(
            "HL-VIEW-0004", "unsure.kz", Category.extremism, START + timedelta(minutes=1),
            ending="review",
        )
    )  # fmt: skip
    ledger.record(case_history("HL-VIEW-0005", "wait.kz", Category.hate, START, ending="review"))
    return ledger


def test_the_public_status_tells_nothing_internal(database_url: str) -> None:
    ledger = filled(database_url)
    forwarded = views.public_status(ledger, "HL-VIEW-0001")
    assert forwarded is not None and forwarded.status == "forwarded"
    assert forwarded.forwarded_to == ["blocking_authority", "hosting"]
    closed = views.public_status(ledger, "HL-VIEW-0003")
    assert closed is not None and closed.status == "closed"
    assert closed.reason == "The content was removed before we checked it."
    checking = views.public_status(ledger, "HL-VIEW-0004")
    assert checking is not None and checking.status == "checking"
    assert "casino.kz" not in forwarded.model_dump_json()
    assert views.public_status(ledger, "HL-NONE-0000") is None


def test_the_timeline_and_latest_state(database_url: str) -> None:
    ledger = filled(database_url)
    history = views.timeline(ledger, "HL-VIEW-0001")
    assert [e.seq for e in history] == list(range(1, len(history) + 1))
    assert history[0].stage == "received" and history[0].prev_hash == "0" * 64
    assert [e.kind for e in history].count("notice") == 2
    assert {e.outcome for e in history if e.kind == "delivery_receipt"} == {
        "delivered",
        "confirmed",
    }
    state = views.case_state(ledger, "HL-VIEW-0001")
    assert state is not None and state.stage == "dispatch"


def test_the_review_queue_is_oldest_first(database_url: str) -> None:
    queue = views.review_queue(filled(database_url))
    assert [item.case_id for item in queue] == ["HL-VIEW-0005", "HL-VIEW-0004"]
    assert queue[0].envelope.outcome == "review"


def test_the_registry_lists_restrictions_but_never_csam(database_url: str) -> None:
    ledger = filled(database_url)
    page = views.registry(ledger)
    assert [e.domain for e in page.entries] == ["casino.kz"]
    assert page.total == 1 and page.withheld_csam == 1
    entry = page.entries[0]
    assert entry.status == "restricted"  # its blocking request was confirmed
    assert entry.legal_basis and entry.authority
    assert views.registry(ledger, search="CASINO").total == 1
    assert views.registry(ledger, category="hate").total == 0
    assert views.registry(ledger, status="lifted").total == 0
    assert views.registry(ledger, offset=1).entries == []
    csam = [e for e in views.timeline(ledger, "HL-VIEW-0002") if e.kind == "notice"]
    csam_key = str(csam[0].payload["idempotency_key"])
    assert views.registry_entry(ledger, csam_key) is None
    assert views.registry_entry(ledger, entry.entry_id) == entry


def test_an_appeal_waits_then_its_outcome_shows_on_the_entry(database_url: str) -> None:
    ledger = filled(database_url)
    entry = views.registry(ledger).entries[0]
    appeal = Appeal(
        appeal_id="ap-1",
        entry_id=entry.entry_id,
        case_id=entry.case_id,
        submitted_at=START + timedelta(days=1),
        grounds="Бұл сайт заңды лотерея.",
    )
    ledger.record([LedgerMessage(APPEALS, appeal.model_dump_json().encode())])
    pending = views.pending_appeals(ledger)
    assert [p.appeal.appeal_id for p in pending] == ["ap-1"]
    assert views.registry(ledger).entries[0].status == "under_appeal"
    decision = AppealDecision(
        appeal_id="ap-1",
        entry_id=entry.entry_id,
        case_id=entry.case_id,
        outcome="lifted",
        reason="A licensed lottery.",
        reviewer="R. Reviewer",
        decided_at=START + timedelta(days=2),
    )
    ledger.record([LedgerMessage(APPEALS, decision.model_dump_json().encode())])
    assert views.pending_appeals(ledger) == []
    lifted = views.registry(ledger).entries[0]
    assert (lifted.status, lifted.appeal_outcome, lifted.appeal_reason) == (
        "lifted",
        "lifted",
        "A licensed lottery.",
    )
    assert views.registry(ledger, status="lifted").total == 1


def test_notice_and_takedown_timing(database_url: str) -> None:
    ledger = filled(database_url)
    report = views.ntd(ledger)
    rows = {row.category: row for row in report.rows}
    assert rows["all"].to_verification.cases == 5
    assert rows["all"].to_dispatch.cases == 2
    gambling = rows["gambling"]
    assert gambling.to_verification.median_s == 2.0
    assert gambling.to_dispatch.median_s == 11.0
    assert gambling.to_delivery.median_s == 41.0
    assert gambling.to_confirmation.median_s == 11.0 + 3 * 3600
    assert views.ntd(ledger, datetime.now(UTC)).rows == []  # none reported since
