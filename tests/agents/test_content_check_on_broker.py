"""url-verify and content-check chained on a real broker against the sandbox internet: every
sample ends as expected, evidence lands in the store by hash, and child-abuse material leaves
no byte of its content on disk (evidence store, broker log, worker logs)."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agents.content_check import CONTENT_CHECKED
from agents.received import RECEIVED
from pipeline.config import Settings
from pipeline.content.evidence import EvidenceStore
from pipeline.content.screenshots import find_chromium
from pipeline.runtime.topics import TERMINATED
from pipeline.sandbox import Sandbox, media
from pipeline.sandbox.cases import received_envelope
from pipeline.sandbox.content import GARDEN_EN, HATE_EN
from schemas import Category
from tests.fixtures.stage import StageWorker, publish_envelopes, stage_events, wait_until

pytestmark = pytest.mark.broker

SITE = "sample-site.com"
CAP = 256 * 1024  # a small content cap, so the endless page is cut quickly
# Outcome, reason and category reported, by (host, path).
SAMPLES: dict[tuple[str, str], tuple[str, str | None, Category]] = {
    ("kazinfo-news.kz", "/"): ("continue", None, Category.other),
    ("crypto-pyramid.kz", "/en"): ("continue", None, Category.financial_pyramid),
    ("northern-storm.nl", "/ru"): ("continue", None, Category.terrorism),
    (SITE, "/js"): ("continue", None, Category.other),
    (SITE, "/image.png"): ("continue", None, Category.terrorism),
    (SITE, "/document.pdf"): ("continue", None, Category.financial_pyramid),
    (SITE, "/endless"): ("continue", None, Category.other),
    (SITE, "/empty"): ("terminated", "empty_page", Category.other),
    (SITE, "/setup.exe"): ("terminated", "not_text_or_media", Category.other),
    (SITE, "/removed"): ("terminated", "content_removed", Category.other),
    # Child-abuse material: reported as such, matching the csam bank, or loaded by a page.
    ("restricted-media.nl", "/"): ("continue", None, Category.csam),
    ("hate-forum.de", "/"): ("continue", None, Category.csam),
    (SITE, "/gallery"): ("continue", None, Category.hate),
}
UNREPORTED_CSAM = ("restricted-media.nl", "/?as=other")  # matches the bank, reported as other


@pytest.fixture(scope="module")
def chain(
    pipeline_bootstrap: str,
    sandbox: Sandbox,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[dict[tuple[str, str], dict[str, Any]], Path]]:
    """Runs every sample through both stages once; yields each one's content-check event and
    the workers' directory (logs and data)."""
    sandbox.reset()
    root = tmp_path_factory.mktemp("content-check")
    samples = {**SAMPLES, UNREPORTED_CSAM: ("continue", None, Category.other)}
    envelopes = {
        key: received_envelope(
            sandbox.url(*key), key[0], f"HL-TEST-{uuid.uuid4().hex[:12]}", category
        )
        for key, (_, _, category) in samples.items()
    }
    env = {
        **sandbox.pipeline_env(root / "banks"),
        "HOTLINE_DNS_TIMEOUT": "0.5",
        "HOTLINE_HTTP_TIMEOUT": "2",
        "HOTLINE_VERIFY_ATTEMPTS": "2",
        "HOTLINE_VERIFY_BACKOFF": "0.1",
        "HOTLINE_CONTENT_MAX_BYTES": str(CAP),
    }
    workers = [
        StageWorker(stage, pipeline_bootstrap, root / f"{stage}.log", env).start()
        for stage in ("url-verify", "content-check")
    ]
    try:
        asyncio.run(publish_envelopes(pipeline_bootstrap, RECEIVED, list(envelopes.values())))
        case_ids = {e.case_id for e in envelopes.values()}

        def checked() -> dict[str, list[dict[str, Any]]]:
            topics = [CONTENT_CHECKED, TERMINATED]
            return stage_events(pipeline_bootstrap, topics, "content-check", case_ids)

        wait_until(lambda: set(checked()) == case_ids, 180, "content verdicts")
        outputs = checked()
    finally:
        for worker in workers:
            worker.stop()
    assert all(len(events) == 1 for events in outputs.values())
    yield {key: outputs[e.case_id][0] for key, e in envelopes.items()}, root


def content_of(events: dict[tuple[str, str], dict[str, Any]], key: tuple[str, str]) -> Any:
    return events[key]["case"]["content"]


def test_each_sample_ends_as_expected(
    chain: tuple[dict[tuple[str, str], dict[str, Any]], Path],
) -> None:
    events, _ = chain
    got = {key: (events[key]["outcome"], events[key]["reason"]) for key in SAMPLES}
    assert got == {key: (outcome, reason) for key, (outcome, reason, _) in SAMPLES.items()}
    removed = content_of(events, (SITE, "/removed"))
    assert removed["status"] == 404 and removed["error"].startswith("The content has been")


def test_content_facts_and_evidence_by_hash(
    chain: tuple[dict[tuple[str, str], dict[str, Any]], Path],
) -> None:
    events, root = chain
    store = EvidenceStore(Settings(data_dir=root / "data").evidence_root())
    news = content_of(events, ("kazinfo-news.kz", "/"))
    assert (news["mime"], news["language"], news["text_source"]) == ("text/html", "kk", "html")
    assert news["title"] and news["text"]
    evidence = store.get(news["evidence"]["sha256"])
    assert hashlib.sha256(evidence).hexdigest() == news["sha256"] == news["evidence"]["sha256"]
    assert content_of(events, ("crypto-pyramid.kz", "/en"))["language"] == "en"
    assert content_of(events, ("northern-storm.nl", "/ru"))["language"] == "ru"

    image = content_of(events, (SITE, "/image.png"))
    assert image["sha256"] == hashlib.sha256(media.png("stripes")).hexdigest()
    assert [(m["bank"], m["signal"]) for m in image["hash_matches"]] == [
        ("sandbox-terrorism", "pdq")
    ]
    pdf = content_of(events, (SITE, "/document.pdf"))
    assert pdf["mime"] == "application/pdf" and pdf["evidence"]["size"] == pdf["size"]
    assert pdf["text"] and pdf["language"] == "en"  # read from its page by pypdf

    endless = content_of(events, (SITE, "/endless"))
    assert endless["truncated"] and endless["size"] == CAP
    assert content_of(events, (SITE, "/setup.exe"))["mime"] == "application/octet-stream"
    # Terminated cases keep no evidence.
    assert content_of(events, (SITE, "/empty"))["evidence"] is None


def test_screenshots_of_pages_and_text_of_pages_built_by_script(
    chain: tuple[dict[tuple[str, str], dict[str, Any]], Path],
) -> None:
    events, root = chain
    store = EvidenceStore(Settings(data_dir=root / "data").evidence_root())
    news = content_of(events, ("kazinfo-news.kz", "/"))
    script_built = content_of(events, (SITE, "/js"))
    if find_chromium(Settings()) is None:
        assert news["screenshot"] is None and "Chromium is not installed" in news["screenshot_note"]
        assert script_built["text"] == "" and script_built["text_source"] == "html"
        return
    assert store.get(news["screenshot"]["sha256"]).startswith(b"\x89PNG\r\n\x1a\n")
    assert news["screenshot_note"] is None
    assert script_built["text_source"] == "rendered" and GARDEN_EN.heading in script_built["text"]


def test_child_abuse_material_keeps_hashes_and_metadata_only(
    chain: tuple[dict[tuple[str, str], dict[str, Any]], Path], sandbox: Sandbox
) -> None:
    events, _ = chain
    grey = media.png("grey")
    for key in [("restricted-media.nl", "/"), UNREPORTED_CSAM, ("hate-forum.de", "/")]:
        facts = content_of(events, key)
        assert facts["withheld"] and facts["sha256"] and facts["size"] > 0
        assert facts["evidence"] is None and facts["screenshot"] is None
        assert facts["title"] is None and facts["text"] is None
    image = content_of(events, UNREPORTED_CSAM)
    assert image["sha256"] == hashlib.sha256(grey).hexdigest()
    assert {(m["bank"], m["category"]) for m in image["hash_matches"]} == {("sandbox-csam", "csam")}
    gallery = content_of(events, (SITE, "/gallery"))
    if find_chromium(Settings()) is not None:  # the page's image is found while rendering it
        assert gallery["withheld"] and gallery["evidence"] is None
        assert {m["url"] for m in gallery["hash_matches"]} == {sandbox.url("restricted-media.nl")}


def test_no_byte_of_child_abuse_material_is_on_disk(
    chain: tuple[dict[tuple[str, str], dict[str, Any]], Path],
    broker_settings: Settings,
) -> None:
    _, root = chain
    # The image itself, and a sentence only the csam-reported page carries.
    needles = [media.png("grey"), HATE_EN.paragraphs[0].encode()]
    places = [root]
    if not broker_settings.bootstrap:  # the session's own Kafka: its log is on disk here
        places.append(broker_settings.data_dir)
    files = [p for place in places for p in place.rglob("*") if p.is_file()]
    assert any(p.parent.parent.name == "evidence" for p in files)  # the store was written
    assert any(p.suffix == ".log" and p.stat().st_size for p in files)  # broker / worker logs
    leaked = [str(p) for p in files for needle in needles if needle in p.read_bytes()]
    assert leaked == []
