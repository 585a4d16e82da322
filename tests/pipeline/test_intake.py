"""Admission of intake reports: validation, reasons, case ids (pipeline/intake.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.intake import Admitted, Refused, admit
from pipeline.runtime.ids import case_id_for
from schemas import Category, RejectionReason
from tests.builders import SOURCE, encode, report


def test_valid_report_becomes_a_case() -> None:
    decision = admit(encode(report(url="HTTPS://Example.KZ/a#b")), SOURCE)
    assert isinstance(decision, Admitted)
    assert decision.url.url == "https://example.kz/a"
    assert decision.report.category is Category.hate
    assert decision.causation_id == "intake:2:41"
    assert decision.case_id == case_id_for("intake:2:41")
    assert decision.case_id.startswith("HL-")


def test_submission_id_makes_the_case_id_stable_across_resends() -> None:
    first = admit(encode(report(submission_id="form-123")), SOURCE)
    again = admit(
        encode(report(submission_id="form-123")), SOURCE.model_copy(update={"offset": 99})
    )
    assert isinstance(first, Admitted) and isinstance(again, Admitted)
    assert first.case_id == again.case_id
    assert first.causation_id == "submission:form-123"


BAD_INPUT = [
    (b"{not json", RejectionReason.malformed_json),
    (b"\xff\xfe\x00garbage", RejectionReason.invalid_utf8),
    (b"[1, 2]", RejectionReason.not_an_object),
    (b'"just a string"', RejectionReason.not_an_object),
    (encode(report(url=None)), RejectionReason.missing_url),
    (encode(report(url="javascript:alert(1)")), RejectionReason.url_scheme_not_allowed),
    (encode(report(url="file:///etc/shadow")), RejectionReason.url_scheme_not_allowed),
    (encode(report(url="data:text/plain,hi")), RejectionReason.url_scheme_not_allowed),
    (encode(report(url="https://x.kz/" + "a" * 2100)), RejectionReason.url_too_long),
    (encode(report(url=42)), RejectionReason.url_invalid),
    (encode(report(category="spam")), RejectionReason.unknown_category),
    (encode(report(extra_field=1)), RejectionReason.unknown_field),
    (encode(report(channel=None)), RejectionReason.missing_field),
    (encode(report(submitted_at="yesterday")), RejectionReason.invalid_field),
    (encode(report(submitted_at="2026-11-23T10:00:00")), RejectionReason.invalid_field),
    (encode(report(description="x" * 70_000)), RejectionReason.payload_too_large),
]


@pytest.mark.parametrize(("raw", "reason"), BAD_INPUT)
def test_bad_input_is_refused_with_a_reason(raw: bytes, reason: RejectionReason) -> None:
    decision = admit(raw, SOURCE)
    assert isinstance(decision, Refused)
    assert decision.reason == reason
    assert decision.message and decision.problems


def test_the_worst_url_problem_leads() -> None:
    decision = admit(encode(report(url="javascript:x", other=1)), SOURCE)
    assert isinstance(decision, Refused)
    assert decision.reason == RejectionReason.url_scheme_not_allowed
    assert {p.code for p in decision.problems} == {"url_scheme_not_allowed", "unknown_field"}


@given(st.binary(max_size=2000))
@settings(max_examples=300)
def test_any_bytes_get_a_decision(raw: bytes) -> None:
    assert isinstance(admit(raw, SOURCE), Admitted | Refused)


@given(
    st.dictionaries(
        st.sampled_from(["url", "category", "channel", "submitted_at", "contact", "language", "x"]),
        st.one_of(st.none(), st.text(max_size=40), st.integers(), st.lists(st.integers())),
    )
)
def test_any_json_object_gets_a_decision(document: dict[str, Any]) -> None:
    decision = admit(json.dumps(document).encode(), SOURCE)
    if isinstance(decision, Refused):
        assert decision.reason in RejectionReason
        assert decision.message
