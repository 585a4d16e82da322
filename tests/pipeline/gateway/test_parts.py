"""The gateway's parts on their own: texts, languages, rate limits, form tokens, submissions."""

from __future__ import annotations

import re

import orjson
import pytest

from pipeline.gateway.forms import FormTokens
from pipeline.gateway.ratelimit import TokenBuckets, retry_after
from pipeline.gateway.texts import LANGUAGES, category_label, pick_language, text, text_keys
from pipeline.intake import Admitted, Refused, prepare_submission, with_submission_id
from schemas import Category
from tests.builders import encode, report


def test_every_text_is_in_every_language_with_the_same_places() -> None:
    for key in text_keys():
        # Without values a text is its template, `{places}` and all.
        places = {
            language: set(re.findall(r"\{(\w+)\}", text(language, key))) for language in LANGUAGES
        }
        assert len({frozenset(p) for p in places.values()}) == 1, (key, places)
        for language in LANGUAGES:
            assert text(language, key, **dict.fromkeys(places[language], "X")).strip()
    for category in Category:
        assert all(category_label(language, category) for language in LANGUAGES)


@pytest.mark.parametrize(
    ("asked", "accept", "chosen"),
    [
        (None, None, "kk"),
        ("ru", "en", "ru"),
        ("RU", None, "ru"),
        ("de", "en-GB,en;q=0.9", "en"),
        (None, "de-DE,ru;q=0.8,en;q=0.9", "en"),
        (None, "ru-RU,ru;q=0.9,kk;q=0.8", "ru"),
        (None, "kk-KZ", "kk"),
        (None, "fr, de", "kk"),
        (None, "en;q=0, ru;q=0.1", "ru"),
        (None, "en;q=garbage", "kk"),
    ],
)
def test_the_readers_language(asked: str | None, accept: str | None, chosen: str) -> None:
    assert pick_language(asked, accept) == chosen


def test_a_token_bucket_bursts_then_goes_at_the_rate() -> None:
    now = [0.0]
    buckets = TokenBuckets(6, clock=lambda: now[0])  # one token every 10 s
    assert [buckets.take("a") for _ in range(6)] == [None] * 6
    wait = buckets.take("a")
    assert wait is not None and wait == pytest.approx(10.0)
    assert retry_after(wait) == "10"
    assert buckets.take("b") is None  # a sender of its own
    now[0] = 9.0
    assert buckets.take("a") == pytest.approx(1.0)
    now[0] = 10.0
    assert buckets.take("a") is None


def test_buckets_forget_the_least_recent_senders() -> None:
    buckets = TokenBuckets(1, max_senders=2, clock=lambda: 0.0)
    assert buckets.take("a") is None and buckets.take("b") is None
    assert buckets.take("c") is None  # "a" is forgotten: it would start full again
    assert buckets.take("b") is not None and buckets.take("c") is not None
    assert buckets.take("a") is None


def test_form_tokens() -> None:
    now = [1_000_000.0]
    forms = FormTokens("secret", max_age=60, clock=lambda: now[0])
    issued = forms.issue("report")
    assert forms.valid("report", issued.nonce, issued.token)
    assert not forms.valid("login", issued.nonce, issued.token)  # for one form only
    assert not forms.valid("report", issued.nonce, issued.token[:-1] + "0")
    assert not forms.valid("report", issued.nonce + "0", issued.token)
    assert not forms.valid("report", "", "")
    assert not FormTokens("another secret").valid("report", issued.nonce, issued.token)
    now[0] += 61
    assert not forms.valid("report", issued.nonce, issued.token)  # expired


def test_a_submission_gets_an_id_unless_it_has_one() -> None:
    given = encode(report(submission_id="mine"))
    assert with_submission_id(given, "gw") == given
    added = orjson.loads(with_submission_id(encode(report()), "gw"))
    assert re.fullmatch(r"gw-[0-9a-f]{32}", added["submission_id"])
    for unreadable in (b"{nope", b"[1]", b"\xff"):
        assert with_submission_id(unreadable, "gw") == unreadable
    value, decision = prepare_submission(encode(report()), "web")
    assert isinstance(decision, Admitted)
    assert decision.report.submission_id == orjson.loads(value)["submission_id"]
    _, refused = prepare_submission(b"{nope", "web")
    assert isinstance(refused, Refused) and refused.reason.value == "malformed_json"
