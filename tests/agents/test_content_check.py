"""content-check's decision, without a broker."""

from __future__ import annotations

import pytest

from agents.content_check import Content, is_csam, verdict
from pipeline.content.analysis import Readable
from pipeline.lookups.links import LinkCheck
from schemas import Category, HashMatch, Outcome

URL = "http://example.kz/page"
TEXT = Readable("Title", "Some visible words", False, 0, "en", 0.99)
BLANK = Readable(None, "", False, 0, None, None)
SCRIPTED = Readable(None, "", True, 0, None, None)
PICTURES = Readable(None, "", False, 3, None, None)


def answered(status: int = 200) -> LinkCheck:
    return LinkCheck(URL, final_url=URL, status=status, method="GET")


def html(reading: Readable, size: int = 100, rendered: str | None = None) -> Content:
    return Content("text/html", size, True, reading, rendered)


@pytest.mark.parametrize(
    ("check", "content", "expected"),
    [
        (answered(), html(TEXT), (Outcome.continue_, None)),
        (answered(), Content("image/png", 151, True, None), (Outcome.continue_, None)),
        (answered(), Content("application/pdf", 635, True, None), (Outcome.continue_, None)),
        (answered(404), None, (Outcome.terminated, "content_removed")),
        (answered(410), None, (Outcome.terminated, "content_removed")),
        (answered(403), None, (Outcome.terminated, "refused")),
        (answered(503), None, (Outcome.terminated, "unreachable")),
        (LinkCheck(URL, problem="timeout"), None, (Outcome.terminated, "unreachable")),
        (
            LinkCheck(URL, problem="forbidden_address"),
            None,
            (Outcome.terminated, "forbidden_address"),
        ),
        (answered(), None, (Outcome.terminated, "not_text_or_media")),
        (
            answered(),
            Content("application/zip", 10, False, None),
            (Outcome.terminated, "not_text_or_media"),
        ),
        (answered(), html(BLANK, size=0), (Outcome.terminated, "empty_page")),
        (answered(), html(BLANK), (Outcome.terminated, "empty_page")),
        # A page of pictures is not empty.
        (answered(), html(PICTURES), (Outcome.continue_, None)),
        # Built by scripts: rendered with text, rendered blank, not rendered.
        (answered(), html(SCRIPTED, rendered="Hello"), (Outcome.continue_, None)),
        (answered(), html(SCRIPTED, rendered=""), (Outcome.terminated, "empty_page")),
        (answered(), html(SCRIPTED), (Outcome.continue_, None)),
    ],
)
def test_verdict(
    check: LinkCheck, content: Content | None, expected: tuple[Outcome, str | None]
) -> None:
    assert verdict(check, content) == expected


def test_csam_is_what_was_reported_as_csam_or_matches_a_csam_bank() -> None:
    csam_bank = HashMatch(bank="b", category=Category.csam, signal="md5", distance=0, url=URL)
    hate_bank = HashMatch(bank="h", category=Category.hate, signal="pdq", distance=4, url=URL)
    assert is_csam(Category.csam, [])
    assert is_csam(Category.hate, [hate_bank, csam_bank])
    assert not is_csam(Category.hate, [hate_bank])
