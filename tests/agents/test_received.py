"""The received stage's pure decisions: validation, URL normalisation, case ids, duplicates."""

from __future__ import annotations

import base64
import json
from typing import Any

import orjson

from agents.received import (
    UrlIndexEntry,
    first_intake_source,
    register_report,
    rejection,
)
from pipeline.intake import Refused, admit, redact_contact
from pipeline.runtime.runner import Inbound
from pipeline.runtime.topics import INTAKE, INTAKE_REKEYED
from schemas import RejectionReason, SourceRef

SOURCE = SourceRef(topic=INTAKE, partition=2, offset=41, timestamp_ms=1_795_000_000_000)


def report(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "url": "https://example.kz/page",
        "category": "hate",
        "description": "Ұлтаралық араздық",
        "language": "kk",
        "channel": "web_form",
        "submitted_at": "2026-11-23T10:00:00+06:00",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def encode(document: Any) -> bytes:
    return orjson.dumps(document)


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
