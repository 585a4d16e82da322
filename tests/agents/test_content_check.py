"""content-check: its decision, and the stage in the harness against the sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents import content_check
from agents.content_check import SPEC, Content, is_csam, verdict
from pipeline.config import Settings
from pipeline.content.analysis import Readable
from pipeline.lookups.links import LinkCheck
from pipeline.runtime.harness import run_through
from pipeline.sandbox import Sandbox
from pipeline.sandbox.cases import sandbox_cases
from schemas import Category, Envelope, HashMatch, Outcome

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


# ---------------------------------------------------------------- the stage, in the harness


def checked(
    sandbox: Sandbox, settings: Settings, links: list[tuple[str, str, Category]]
) -> list[Envelope]:
    cases = sandbox_cases(sandbox.url, links, "HL-CC")
    return [Envelope.model_validate_json(o.value) for o in run_through(SPEC, cases, settings)]


def test_a_page_gets_its_text_language_and_evidence(
    sandbox: Sandbox, sandbox_settings: Settings
) -> None:
    [case] = checked(sandbox, sandbox_settings, [("kazinfo-news.kz", "/", Category.other)])
    content = case.case.content
    assert case.outcome is Outcome.continue_ and content is not None
    assert content.text and content.language and content.evidence is not None
    assert content.withheld is None


def test_csam_is_never_read_nor_kept(
    sandbox: Sandbox, sandbox_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def never(*args: object) -> object:
        raise AssertionError("the text of csam content was read")

    monkeypatch.setattr(content_check, "readable", never)
    reported, matched = checked(
        sandbox,
        sandbox_settings,
        [
            ("restricted-media.nl", "/", Category.csam),  # reported as csam
            ("restricted-media.nl", "/?as=other", Category.other),  # matches the csam bank
        ],
    )
    for case in (reported, matched):
        content = case.case.content
        assert content is not None and content.withheld == content_check.WITHHELD_CSAM
        assert content.sha256 and content.text is None and content.title is None
        assert content.evidence is None and content.screenshot is None
    assert matched.case.content and any(
        m.category is Category.csam for m in matched.case.content.hash_matches
    )
    assert list(Path(sandbox_settings.evidence_root()).rglob("*")) == []
