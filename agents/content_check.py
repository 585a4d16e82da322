"""content-check: is the reported content there, and what is it?

Fetches the content at the verified link within limits (time, `content_max_bytes`, allowed
content types; every hop through the SSRF guard), finds its real type from its bytes, hashes it
(SHA-256, MD5, and PDQ for images), matches the hashes against the known-content hash banks,
reads the page's title, visible text and language, and keeps the content and a Chromium
screenshot in the evidence store. A case reported as csam, or whose content matches a csam
bank, keeps hashes and metadata only: nothing of the content is written anywhere, this topic
included. Content that is gone, empty, or neither text nor media ends the case.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from pydantic_settings import BaseSettings, SettingsConfigDict

from pipeline.content.analysis import (
    Fingerprint,
    Readable,
    detect_language,
    fingerprint,
    media_type,
    readable,
    sniff,
    type_allowed,
)
from pipeline.content.banks import HashBanks
from pipeline.content.evidence import EvidenceStore
from pipeline.content.screenshots import Document, PageRenderer, Rendering
from pipeline.lookups.dns import DnsResolver
from pipeline.lookups.failures import LinkFailure, link_failure
from pipeline.lookups.links import LinkCheck, LinkChecker
from pipeline.lookups.retry import with_retries
from pipeline.runtime.envelopes import envelope_output, input_event_id, next_envelope, read_envelope
from pipeline.runtime.reasons import ReasonCode
from pipeline.runtime.stage import Handler, Inbound, Outbound, StageContext, StageSpec
from pipeline.runtime.topics import TERMINATED
from schemas import Category, ContentFacts, HashMatch, Outcome, StageName, StoredObject

STAGE: StageName = "content-check"
INPUTS = ("hotline.url-verified",)
CONTENT_CHECKED = "hotline.content-checked"
OUTPUTS = (CONTENT_CHECKED, TERMINATED)  # content found; none to act on

WITHHELD_CSAM = "child sexual abuse material: only hashes and metadata are kept"
_OFF_LOOP_BYTES = 256 * 1024
_T = TypeVar("_T")


class ContentOptions(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOTLINE_", extra="ignore")

    content_max_bytes: int = 5 * 1024 * 1024  # bytes read of a page or file; the rest is cut
    # Content types fetched and analysed (a trailing /* takes a whole family); others end the
    # case as "not text or media" without their body being read.
    content_types: str = (
        "text/html,application/xhtml+xml,text/plain,application/pdf,image/*,video/*,audio/*"
    )
    content_text_chars: int = 20_000  # visible text kept on the case for categorisation
    # Known-content hash banks: comma-separated `*.hashes` files or directories of them
    # (format in README). Empty: no bank is matched.
    hash_banks: str = ""
    pdq_match_distance: int = 31  # Hamming distance at or below which PDQ hashes match
    pdq_min_quality: int = 50  # PDQ hashes of flatter images are too unreliable to match
    keep_evidence: bool = True  # keep page bytes and screenshots (never for csam)

    def content_type_list(self) -> list[str]:
        return [t.strip().lower() for t in self.content_types.split(",") if t.strip()]

    def hash_bank_paths(self) -> list[Path]:
        return [Path(p.strip()) for p in self.hash_banks.split(",") if p.strip()]


class ContentAnswer(ReasonCode):
    """The link works, but there is nothing to act on."""

    content_removed = "content_removed", "The content has been removed from the site."
    empty_page = "empty_page", "The page is empty."
    not_text_or_media = (
        "not_text_or_media",
        "The link leads to a file that is neither a page, a document nor media.",
    )


Reason = LinkFailure | ContentAnswer


@dataclass(frozen=True)
class Content:
    """The fetched body as the verdict sees it."""

    mime: str
    size: int
    allowed: bool  # a page, a document or media
    reading: Readable | None  # for HTML and plain text; None for csam, never read
    rendered_text: str | None = None  # None: the page was not rendered


# ---------------------------------------------------------------- pure decision


def verdict(check: LinkCheck, content: Content | None) -> tuple[Outcome, Reason | None]:
    """Continue with content worth an analyst's look; terminate, with a reason, a case whose
    content is gone, empty, or not text or media.

    `content` is None when no body was read: the fetch failed or the type was not wanted.
    """
    failure = link_failure(check)
    if failure is not None:
        return Outcome.terminated, failure
    if check.status in (404, 410):
        return Outcome.terminated, ContentAnswer.content_removed
    if check.status != 200:
        return Outcome.terminated, LinkFailure.refused
    if content is None or not content.allowed:
        return Outcome.terminated, ContentAnswer.not_text_or_media
    if content.size == 0:
        return Outcome.terminated, ContentAnswer.empty_page
    reading = content.reading
    blank = reading is not None and not (reading.text or reading.embeds or content.rendered_text)
    # A page built by its scripts is empty only if rendering it shows nothing either;
    # unrendered, it goes to the analyst rather than ending unseen.
    unseen = reading is not None and reading.has_script and content.rendered_text is None
    if blank and not unseen:
        return Outcome.terminated, ContentAnswer.empty_page
    return Outcome.continue_, None


def is_csam(reported: Category, matches: list[HashMatch]) -> bool:
    return reported is Category.csam or any(m.category is Category.csam for m in matches)


# ---------------------------------------------------------------- agent wiring


@dataclass
class _Tools:
    options: ContentOptions
    fetcher: LinkChecker
    banks: HashBanks
    store: EvidenceStore
    renderer: PageRenderer


def build(context: StageContext) -> Handler:
    settings = context.settings
    options = context.options(ContentOptions)
    fetcher = LinkChecker(settings, DnsResolver(settings))
    banks = HashBanks.load(
        options.hash_bank_paths(), options.pdq_match_distance, options.pdq_min_quality
    )
    tools = _Tools(
        options,
        fetcher,
        banks,
        EvidenceStore(settings.evidence_root()),
        PageRenderer(settings, fetcher, banks, options.content_max_bytes),
    )
    allowed = options.content_type_list()
    context.on_shutdown(tools.renderer.close)
    context.on_shutdown(fetcher.close)

    def wanted(content_type: str | None) -> bool:
        return type_allowed(media_type(content_type), allowed)

    async def handle(inbound: Inbound) -> list[Outbound]:
        previous = read_envelope(inbound.value)
        url_facts = previous.case.url
        url = (url_facts.final_url if url_facts else None) or previous.case.report.url
        check, attempts = await with_retries(
            lambda: fetcher.fetch(url, options.content_max_bytes, wanted), settings
        )
        facts, content, screenshot = await _inspect(
            tools, check, attempts, previous.case.report.category
        )
        outcome, reason = verdict(check, content)
        if reason is not None:
            facts.error = reason.explain(check.detail or check.status or facts.mime)
        elif options.keep_evidence and facts.withheld is None and facts.mime is not None:
            facts.evidence = await _keep(tools.store, check.body, facts.mime)
            if screenshot is not None:
                facts.screenshot = await _keep(tools.store, screenshot, "image/png")
        case = previous.case.model_copy(update={"content": facts})
        envelope = next_envelope(previous, STAGE, outcome, reason, case)
        topic = CONTENT_CHECKED if outcome is Outcome.continue_ else TERMINATED
        return [envelope_output(topic, envelope)]

    return handle


async def _inspect(
    tools: _Tools, check: LinkCheck, attempts: int, reported: Category
) -> tuple[ContentFacts, Content | None, bytes | None]:
    """The content's facts, what the verdict needs, and the screenshot (never of csam)."""
    declared = check.content_type
    facts = ContentFacts(
        checked_at=datetime.now(UTC),
        url=check.final_url or check.url,
        status=check.status,
        declared_type=declared,
        mime=None,
        size=len(check.body),
        truncated=check.truncated,
        attempts=attempts,
        fetch_ms=check.http_ms,
    )
    if check.problem is not None or check.status != 200:
        return facts, None, None
    mime = sniff(check.body, media_type(declared))
    facts.mime = mime
    allowed = type_allowed(mime, tools.options.content_type_list())
    if not allowed:
        return facts, Content(mime, len(check.body), False, None), None
    prints = await _off_loop(len(check.body), fingerprint, check.body, mime)
    matches = tools.banks.match(prints, facts.url)
    _record_prints(facts, prints)
    if is_csam(reported, matches):  # checked before any text is read: none ever is
        facts.hash_matches = matches
        facts.withheld = WITHHELD_CSAM
        facts.screenshot_note = "not taken: child sexual abuse material is never rendered"
        return facts, Content(mime, len(check.body), True, None), None
    reading = await _off_loop(len(check.body), readable, check.body, mime, declared)
    rendering = await _render(tools, check, mime, reading, declared)
    matches += rendering.blocked
    facts.hash_matches = matches
    if is_csam(reported, matches):  # the page loads known csam: keep nothing of it
        facts.withheld = WITHHELD_CSAM
        facts.screenshot_note = "not taken: the page loads content matching a csam hash bank"
        return facts, Content(mime, len(check.body), True, reading), None
    _record_reading(facts, reading, rendering, tools.options.content_text_chars)
    rendered = rendering.text if rendering.png is not None else None
    return facts, Content(mime, len(check.body), True, reading, rendered), rendering.png


async def _render(
    tools: _Tools, check: LinkCheck, mime: str, reading: Readable | None, declared: str | None
) -> Rendering:
    if mime not in ("text/html", "application/xhtml+xml") or reading is None:
        return Rendering(note="not a page")
    document = Document(check.final_url or check.url, check.body, declared or mime)
    return await tools.renderer.render(document)


def _record_prints(facts: ContentFacts, prints: Fingerprint) -> None:
    facts.sha256, facts.md5 = prints.sha256, prints.md5
    facts.pdq, facts.pdq_quality = prints.pdq, prints.pdq_quality


def _record_reading(
    facts: ContentFacts, reading: Readable | None, rendering: Rendering, limit: int
) -> None:
    facts.screenshot_note = None if rendering.png else f"no screenshot: {rendering.note}"
    if reading is None:
        return
    facts.title = reading.title
    if reading.text or not rendering.text:
        facts.text, facts.text_source = reading.text[:limit], "html"
        facts.language, facts.language_score = reading.language, reading.language_score
    else:  # the page shows its text only once its scripts run
        facts.text, facts.text_source = rendering.text[:limit], "rendered"
        facts.language, facts.language_score = detect_language(rendering.text)


async def _off_loop(size: int, work: Callable[..., _T], *args: Any) -> _T:
    """Run `work` in a thread when `size` bytes make it long (a 5 MiB page takes a second to
    parse), so the other cases in flight keep moving; small content is quicker in place."""
    if size < _OFF_LOOP_BYTES:
        return work(*args)
    return await asyncio.to_thread(work, *args)


async def _keep(store: EvidenceStore, data: bytes, mime: str) -> StoredObject:
    return await asyncio.to_thread(store.put, data, mime)


SPEC = StageSpec(
    name=STAGE,
    inputs=INPUTS,
    outputs=OUTPUTS,
    build=build,
    identify=input_event_id,
    concurrent=True,
    reasons=(LinkFailure, ContentAnswer),
    options=ContentOptions,
)
