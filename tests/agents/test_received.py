"""The received stage: its pure decisions, and the stage itself in the in-process harness."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import pytest

from agents.received import (
    INTAKE_REKEYED,
    LEDGER_CONTACTS,
    RECEIVED,
    SPEC,
    ReceivedOptions,
    UrlIndexEntry,
    first_intake_source,
    register_report,
    rejection,
)
from pipeline.config import Settings
from pipeline.intake import Refused, admit, redact_contact
from pipeline.runtime.harness import StageHarness
from pipeline.runtime.ids import case_id_for, partition_for_key
from pipeline.runtime.runner import SeenWindow
from pipeline.runtime.stage import Inbound, Outbound
from pipeline.runtime.topics import INTAKE, REJECTED
from schemas import Envelope, LedgerContact, Rejection, RejectionReason, SourceRef
from tests.builders import SOURCE, encode, report

# ---------------------------------------------------------------- rejections keep no contact


def test_rejection_keeps_the_original_without_the_contact() -> None:
    raw = encode(report(category="spam", contact={"email": "reporter@example.kz"}))
    decision = admit(raw, SOURCE)
    assert isinstance(decision, Refused)
    record = rejection(decision, raw, SOURCE, cap=4096)
    original = base64.b64decode(record.original_b64)
    assert b"reporter@example.kz" not in original
    assert record.contact_redacted
    assert json.loads(original)["category"] == "spam"
    assert record.reason == RejectionReason.unknown_category


def test_rejection_caps_the_original() -> None:
    raw = b"x" * 10_000
    decision = admit(raw, SOURCE)
    assert isinstance(decision, Refused)
    record = rejection(decision, raw, SOURCE, cap=100)
    assert len(base64.b64decode(record.original_b64)) == 100
    assert record.original_truncated and record.original_size == 10_000


def test_redact_leaves_other_bytes_alone() -> None:
    assert redact_contact(b"\xff\x00") == (b"\xff\x00", False)


# ---------------------------------------------------------------- duplicates

HOUR = 3_600_000


def test_first_report_of_a_url_is_not_a_duplicate() -> None:
    entry, mark = register_report(None, "HL-A", at_ms=0, window_ms=HOUR)
    assert mark.duplicate_of is None and mark.report_number == 1
    assert entry.first_case_id == "HL-A"


def test_repeat_within_window_links_to_the_first_case() -> None:
    entry, _ = register_report(None, "HL-A", at_ms=0, window_ms=HOUR)
    entry, mark_b = register_report(entry, "HL-B", at_ms=10, window_ms=HOUR)
    entry, mark_c = register_report(entry, "HL-C", at_ms=20, window_ms=HOUR)
    assert (mark_b.duplicate_of, mark_b.report_number) == ("HL-A", 2)
    assert (mark_c.duplicate_of, mark_c.report_number) == ("HL-A", 3)
    assert entry.count == 3


def test_replayed_report_counts_once() -> None:
    entry, _ = register_report(None, "HL-A", at_ms=0, window_ms=HOUR)
    entry, _ = register_report(entry, "HL-B", at_ms=10, window_ms=HOUR)
    again, mark = register_report(entry, "HL-B", at_ms=10, window_ms=HOUR)
    assert again == entry
    assert (mark.duplicate_of, mark.report_number) == ("HL-A", 2)
    _, first_again = register_report(entry, "HL-A", at_ms=0, window_ms=HOUR)
    assert first_again.duplicate_of is None


def test_report_after_the_window_starts_over() -> None:
    entry, _ = register_report(None, "HL-A", at_ms=0, window_ms=HOUR)
    entry, mark = register_report(entry, "HL-B", at_ms=HOUR + 1, window_ms=HOUR)
    assert mark.duplicate_of is None and entry.first_case_id == "HL-B"


def test_index_entry_round_trips() -> None:
    entry, _ = register_report(None, "HL-A", at_ms=5, window_ms=HOUR)
    assert UrlIndexEntry.model_validate(entry.model_dump()) == entry


# ---------------------------------------------------------------- rekeyed reports


def test_rekeyed_report_keeps_its_first_intake_place() -> None:
    rekeyed = Inbound(
        key=b"example.kz",
        value=b"{}",
        source=SourceRef(topic=INTAKE_REKEYED, partition=1, offset=7, timestamp_ms=5),
        headers={"hotline-intake-source": b"3:1234:1795000000000"},
    )
    assert first_intake_source(rekeyed) == SourceRef(
        topic=INTAKE, partition=3, offset=1234, timestamp_ms=1_795_000_000_000
    )


# ---------------------------------------------------------------- the stage, in the harness


def stage(**options: Any) -> StageHarness:
    return StageHarness(SPEC, Settings(), ReceivedOptions(**options))


def on_partition_of(host: str, harness: StageHarness) -> int:
    return partition_for_key(host.encode(), harness.partitions)


def run(harness: StageHarness, *messages: Inbound | bytes) -> list[Outbound]:
    async def go() -> list[Outbound]:
        async with harness:
            return await harness.feed(*messages)

    return asyncio.run(go())


def test_a_report_keyed_by_its_host_becomes_one_case() -> None:
    harness = stage()
    raw = encode(report(submission_id="form-1"))
    outputs = run(harness, harness.message(raw, key=b"example.kz"))
    [case] = harness.on(RECEIVED)
    envelope = Envelope.model_validate_json(case.value)
    assert envelope.case_id == case_id_for("submission:form-1")
    assert envelope.case.report.report_number == 1 and not envelope.case.report.has_contact
    assert harness.on(INTAKE_REKEYED) == [] and harness.on(LEDGER_CONTACTS) == []
    assert "https://example.kz/page" in harness.table("url-index")
    assert len(outputs) == 2  # the case and its index change


def test_a_report_on_another_partition_is_rekeyed_without_its_contact() -> None:
    harness = stage()
    raw = encode(report(submission_id="form-2", contact={"email": "reporter@example.kz"}))
    wrong = (on_partition_of("example.kz", harness) + 1) % harness.partitions
    run(harness, harness.message(raw, key=b"someone-else", partition=wrong))
    [moved] = harness.on(INTAKE_REKEYED)
    assert moved.key == b"example.kz" and b"reporter@example.kz" not in moved.value
    [contact] = harness.on(LEDGER_CONTACTS)  # taken at the first hop, once
    assert LedgerContact.model_validate_json(contact.value).contact is not None
    [case] = harness.on(RECEIVED)
    envelope = Envelope.model_validate_json(case.value)
    assert envelope.case.report.has_contact
    assert envelope.causation_id == "submission:form-2"
    assert all(
        b"reporter@example.kz" not in out.value
        for out in harness.outputs
        if out.topic != LEDGER_CONTACTS
    )


def test_copies_of_one_report_by_two_paths_make_the_same_case_event() -> None:
    harness = stage()
    raw = encode(report(submission_id="form-3"))
    wrong = (on_partition_of("example.kz", harness) + 1) % harness.partitions

    async def go() -> None:
        async with harness:
            await harness.feed(harness.message(raw, key=b"example.kz"))
            # The other copy arrives on another partition: another worker, another window.
            harness.processor.window = SeenWindow(10)
            await harness.feed(
                harness.message(raw, key=b"other", partition=wrong, timestamp_ms=1_795_000_999_000)
            )

    asyncio.run(go())
    first, second = harness.on(RECEIVED)
    assert first.value == second.value  # same id, same received_at: dropped downstream


def test_repeat_reports_of_one_url_link_to_the_first_case() -> None:
    harness = stage()
    first, second = (encode(report(submission_id=f"form-{n}")) for n in (10, 11))
    run(
        harness,
        harness.message(first, key=b"example.kz"),
        harness.message(second, key=b"example.kz"),
    )
    one, two = (Envelope.model_validate_json(o.value) for o in harness.on(RECEIVED))
    assert two.case.report.duplicate_of == one.case_id and two.case.report.report_number == 2
    assert two.reason == "duplicate"


def test_the_index_in_the_table_survives_into_a_new_worker() -> None:
    harness = stage()
    run(harness, harness.message(encode(report(submission_id="form-20")), key=b"example.kz"))
    restarted = stage()

    async def go() -> list[Outbound]:
        async with restarted:
            restarted.table("url-index").update(harness.table("url-index"))
            return await restarted.feed(
                restarted.message(encode(report(submission_id="form-21")), key=b"example.kz")
            )

    asyncio.run(go())
    [case] = restarted.on(RECEIVED)
    assert Envelope.model_validate_json(case.value).case.report.report_number == 2


def test_a_corrected_resend_of_a_rejected_report_is_judged_again() -> None:
    harness = stage()
    wrong = encode(report(submission_id="form-30", category="spam"))
    right = encode(report(submission_id="form-30"))
    run(
        harness,
        harness.message(wrong, key=b"example.kz"),
        harness.message(right, key=b"example.kz"),
    )
    assert len(harness.on(REJECTED)) == 1 and len(harness.on(RECEIVED)) == 1


def test_a_redelivered_report_is_dropped() -> None:
    harness = stage()
    raw = encode(report(submission_id="form-40"))
    run(harness, harness.message(raw, key=b"example.kz"), harness.message(raw, key=b"example.kz"))
    assert len(harness.on(RECEIVED)) == 1
    assert harness.processor.counters.redeliveries_dropped == 1


def test_a_rejection_of_unparseable_bytes_keeps_no_contact() -> None:
    harness = stage()
    broken = b'{"url": "https://example.kz/", "contact": {"email": "reporter@example.kz"}'
    run(harness, harness.message(broken, key=b"example.kz"))
    [rejected] = harness.on(REJECTED)
    record = Rejection.model_validate_json(rejected.value)
    assert record.reason == RejectionReason.malformed_json and record.contact_redacted
    assert b"reporter@" not in base64.b64decode(record.original_b64)


@pytest.mark.parametrize("header", [b"0:0:253402300800000", b"-1:5:10", b"x:y:z", b"\xff", b"1:2"])
def test_a_forged_rekey_header_is_ignored(header: bytes) -> None:
    harness = stage()
    raw = encode(report(submission_id="form-50"))
    partition = on_partition_of("example.kz", harness)
    message = harness.message(
        raw,
        key=b"example.kz",
        topic=INTAKE_REKEYED,
        partition=partition,
        headers={"hotline-intake-source": header},
    )
    run(harness, message)
    [case] = harness.on(RECEIVED)
    assert harness.on("hotline.dlq.received") == []
    assert Envelope.model_validate_json(case.value).case.report.received_at.year < 10000


def test_an_impossible_intake_timestamp_is_not_the_arrival_time() -> None:
    harness = stage()
    raw = encode(report(submission_id="form-60"))
    run(harness, harness.message(raw, key=b"example.kz", timestamp_ms=10**15))
    [case] = harness.on(RECEIVED)
    assert Envelope.model_validate_json(case.value).case.report.received_at.year < 10000
