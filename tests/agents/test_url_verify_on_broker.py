"""url-verify wired on a real broker against the sandbox internet: every link ends as expected,
and no forbidden address is ever contacted (the canary counts zero)."""

from __future__ import annotations

import asyncio
import base64
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiokafka import AIOKafkaProducer

from agents.received import RECEIVED
from agents.url_verify import URL_VERIFIED
from pipeline.runtime.kafka_io import read_topic
from pipeline.runtime.topics import TERMINATED, dead_letter_topic
from pipeline.sandbox import Sandbox
from pipeline.sandbox.cases import received_envelope
from schemas import DeadLetter
from tests.fixtures.stage import StageWorkerFactory, publish_envelopes, stage_events, wait_until

pytestmark = pytest.mark.broker


def links(sandbox: Sandbox) -> dict[str, tuple[str, str | None]]:
    """URL → (expected outcome, expected reason)."""
    canary = sandbox.canary.port
    site = "sample-site.com"
    return {
        sandbox.url("kazinfo-news.kz"): ("continue", None),
        sandbox.url("www.best-casino.kz", "/kk"): ("continue", None),
        sandbox.url(site, "/chain/1"): ("continue", None),
        sandbox.url(site, "/flaky"): ("continue", None),
        sandbox.url(site, "/endless"): ("continue", None),
        sandbox.url(site, "/redirect/foreign"): ("continue", None),
        sandbox.url(site, "/status/404"): ("terminated", "not_found"),
        sandbox.url(site, "/status/410"): ("terminated", "gone"),
        sandbox.url(site, "/status/500"): ("terminated", "unreachable"),
        sandbox.url(site, "/slow"): ("terminated", "unreachable"),
        sandbox.url("no-such-site.kz"): ("terminated", "does_not_resolve"),
        sandbox.url("slow-dns.kazinfo-news.kz"): ("terminated", "unreachable"),
        sandbox.url("down-site.kz"): ("terminated", "unreachable"),
        # Never to be contacted: every one of these reaches the canary if fetched.
        sandbox.url(site, "/redirect/private"): ("terminated", "forbidden_address"),
        sandbox.url("localhost-trap.kz"): ("terminated", "forbidden_address"),
        sandbox.url("intranet-panel.kz"): ("terminated", "forbidden_address"),
        sandbox.url("cloud-metadata.kz"): ("terminated", "forbidden_address"),
        sandbox.url("mixed-ips.kz"): ("terminated", "forbidden_address"),
        sandbox.url("v6-loopback.kz"): ("terminated", "forbidden_address"),
        f"http://127.0.0.1:{canary}/": ("terminated", "forbidden_address"),
        f"http://[::ffff:127.0.0.1]:{canary}/": ("terminated", "forbidden_address"),
        f"http://2130706433:{canary}/": ("terminated", "forbidden_address"),
        f"http://0x7f.1:{canary}/": ("terminated", "forbidden_address"),
        "http://169.254.169.254/latest/meta-data/": ("terminated", "forbidden_address"),
    }


def test_each_sandbox_link_ends_as_expected_and_nothing_forbidden_is_fetched(
    pipeline_bootstrap: str, sandbox: Sandbox, stage_worker: StageWorkerFactory, tmp_path: Path
) -> None:
    sandbox.reset()
    expected = links(sandbox)
    envelopes = {
        url: received_envelope(
            url, urlsplit(url).hostname or "", f"HL-TEST-{uuid.uuid4().hex[:12]}"
        )
        for url in expected
    }
    stage_worker(
        "url-verify",
        **sandbox.pipeline_env(tmp_path / "banks"),
        HOTLINE_DNS_TIMEOUT="0.5",
        HOTLINE_HTTP_TIMEOUT="1.5",
        HOTLINE_VERIFY_ATTEMPTS="2",
        HOTLINE_VERIFY_BACKOFF="0.1",
    )
    asyncio.run(publish_envelopes(pipeline_bootstrap, RECEIVED, list(envelopes.values())))
    case_ids = {e.case_id for e in envelopes.values()}

    def verified() -> dict[str, list[dict[str, Any]]]:
        return stage_events(pipeline_bootstrap, [URL_VERIFIED, TERMINATED], "url-verify", case_ids)

    wait_until(lambda: set(verified()) == case_ids, 120, "verdicts")
    outputs = verified()
    seen = {url: outputs[envelope.case_id] for url, envelope in envelopes.items()}
    assert all(len({d["event_id"] for d in docs}) == 1 for docs in seen.values())
    got = {url: (docs[0]["outcome"], docs[0]["reason"]) for url, docs in seen.items()}
    assert got == expected
    assert sandbox.canary.hits == 0

    facts = {url: docs[0]["case"]["url"] for url, docs in seen.items()}
    www = facts[sandbox.url("www.best-casino.kz", "/kk")]
    assert www["cname_chain"] == ["best-casino.kz"] and www["addresses"] == ["127.1.2.10"]
    chain = facts[sandbox.url("sample-site.com", "/chain/1")]
    assert len(chain["redirects"]) == 3 and chain["final_url"].endswith("/chain/end")
    assert facts[sandbox.url("sample-site.com", "/flaky")]["attempts"] == 2
    assert facts[sandbox.url("sample-site.com", "/status/500")]["attempts"] == 2
    not_found = facts[sandbox.url("sample-site.com", "/status/404")]
    assert not_found["status"] == 404 and "404" in not_found["error"]


def test_a_huge_poison_message_is_dead_lettered_and_the_stage_goes_on(
    pipeline_bootstrap: str,
    sandbox: Sandbox,
    stage_worker: StageWorkerFactory,
    tmp_path: Path,
) -> None:
    """~900 KB of garbage once made a dead letter over the producer's limit: the worker
    crashed, restarted, crashed again. Now the dead letter is capped and the next case is
    checked as usual."""
    marker = uuid.uuid4().hex.encode()
    poison = marker + b"\x00not an envelope" * 56_000  # ~900 KB
    good = received_envelope(
        sandbox.url("kazinfo-news.kz", "/"), "kazinfo-news.kz", f"HL-TEST-{uuid.uuid4().hex[:12]}"
    )
    worker = stage_worker("url-verify", **sandbox.pipeline_env(tmp_path / "banks"))

    async def publish() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=pipeline_bootstrap, max_request_size=2**20)
        await producer.start()
        try:
            await producer.send_and_wait(RECEIVED, poison, key=b"poison")
        finally:
            await producer.stop()

    asyncio.run(publish())
    asyncio.run(publish_envelopes(pipeline_bootstrap, RECEIVED, [good]))

    def dead_letters() -> list[DeadLetter]:
        records = asyncio.run(read_topic(pipeline_bootstrap, dead_letter_topic("url-verify")))
        letters = [DeadLetter.model_validate_json(r.value) for r in records]
        return [d for d in letters if base64.b64decode(d.original_b64).startswith(marker)]

    wait_until(lambda: bool(dead_letters()), 120, "the poison message's dead letter")
    cases = {good.case_id}
    wait_until(
        lambda: set(stage_events(pipeline_bootstrap, [URL_VERIFIED], "url-verify", cases)) == cases,
        120,
        "the next case",
    )
    [letter] = dead_letters()
    assert letter.original_truncated and letter.original_size == len(poison)
    assert letter.attempts == 1
    assert worker.process is not None and worker.process.poll() is None  # never stopped
