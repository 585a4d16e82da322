"""The received stage's pure decisions: validation, URL normalisation, case ids, duplicates."""

from __future__ import annotations

import base64
import json
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.received import (
    Admitted,
    Refused,
    UrlIndexEntry,
    UrlProblem,
    admit,
    first_intake_source,
    normalise_url,
    redact_contact,
    register_report,
    rejection,
)
from pipeline.ids import case_id_for
from pipeline.runner import Inbound
from pipeline.topics import INTAKE, INTAKE_REKEYED
from schemas import Category, RejectionReason, SourceRef

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


# ---------------------------------------------------------------- URL normalisation


@pytest.mark.parametrize(
    ("given_url", "expected"),
    [
        ("HTTPS://Example.KZ/Path?Q=1#frag", "https://example.kz/Path?Q=1"),
        ("http://example.kz:80/a", "http://example.kz/a"),
        ("https://example.kz:443", "https://example.kz/"),
        ("https://example.kz:8443/a", "https://example.kz:8443/a"),
        ("https://Пример.Қаз/жол", "https://xn--e1afmkfd.xn--80ao21a/%D0%B6%D0%BE%D0%BB"),
        ("https://example.kz/%d0%b6%D0%BE%d0%bb", "https://example.kz/%D0%B6%D0%BE%D0%BB"),
        ("https://example.kz/%7Euser/%41?q=%2f%7e", "https://example.kz/~user/A?q=%2F~"),
        ("https://example.kz/a/./b/../c?x=1", "https://example.kz/a/c?x=1"),
        ("https://example.kz/a/%2E%2E/b", "https://example.kz/b"),
        ("https://example.kz/100%/<b>", "https://example.kz/100%25/%3Cb%3E"),
        ("https://user:secret@example.kz/x", "https://example.kz/x"),
        ("https://example.kz./x", "https://example.kz/x"),
        ("http://[2001:DB8::1]:8080/x", "http://[2001:db8::1]:8080/x"),
        ("  https://example.kz/trim  ", "https://example.kz/trim"),
    ],
)
def test_normalise_url(given_url: str, expected: str) -> None:
    assert normalise_url(given_url).url == expected


@pytest.mark.parametrize(
    ("given_url", "reason"),
    [
        ("javascript:alert(1)", RejectionReason.url_scheme_not_allowed),
        ("file:///etc/passwd", RejectionReason.url_scheme_not_allowed),
        ("data:text/html,<b>x</b>", RejectionReason.url_scheme_not_allowed),
        ("ftp://example.kz/x", RejectionReason.url_scheme_not_allowed),
        ("example.kz/no-scheme", RejectionReason.url_scheme_not_allowed),
        ("https://", RejectionReason.url_invalid),
        ("https://exa mple.kz/", RejectionReason.url_invalid),
        ("https://example.kz:99999/", RejectionReason.url_invalid),
        ("https://[::zz]/", RejectionReason.url_invalid),
        ("https://" + "a" * 64 + ".kz/", RejectionReason.url_invalid),
        ("https://example.kz/" + "a" * 2048, RejectionReason.url_too_long),
        ("", RejectionReason.missing_url),
    ],
)
def test_bad_urls_have_a_reason(given_url: str, reason: RejectionReason) -> None:
    with pytest.raises(UrlProblem) as caught:
        normalise_url(given_url)
    assert caught.value.reason == reason


@given(st.text(max_size=300))
@settings(max_examples=400)
def test_normalise_url_never_fails_unexpectedly(text: str) -> None:
    try:
        result = normalise_url(text)
    except UrlProblem as problem:
        assert problem.message
        return
    assert result.url.startswith(("http://", "https://"))
    assert "#" not in result.url
    assert result.host.isascii()
    assert normalise_url(result.url) == result  # idempotent


@given(
    host=st.from_regex(r"[a-z][a-z0-9-]{0,20}\.(kz|ru|com|org)", fullmatch=True),
    path=st.from_regex(r"(/[A-Za-z0-9_~-][A-Za-z0-9._~-]{0,11}){0,4}", fullmatch=True),
    query=st.from_regex(r"([a-z]{1,5}=[A-Za-z0-9]{0,6}&?){0,3}", fullmatch=True),
)
def test_case_of_scheme_and_host_does_not_matter(host: str, path: str, query: str) -> None:
    suffix = path + ("?" + query if query else "")
    lower = normalise_url(f"https://{host}{suffix}")
    upper = normalise_url(f"HTTPS://{host.upper()}{suffix}#x")
    assert lower == upper
    assert lower.url.endswith(suffix or "/")


# ---------------------------------------------------------------- admission


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
