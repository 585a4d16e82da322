"""jurisdiction wired on a real broker: two workers share their lookups, and a worker started
later finds them on the shared topic instead of asking the servers again."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from agents.categorize import CATEGORIZED
from agents.jurisdiction import JURISDICTION_RESOLVED, LOOKUPS
from pipeline.runtime.kafka_io import read_topic
from pipeline.sandbox import Sandbox
from pipeline.sandbox.cases import categorized_envelope
from schemas import Category, Envelope
from tests.fixtures.stage import StageWorkerFactory, publish_envelopes, stage_events, wait_until

pytestmark = pytest.mark.broker

HOSTS = {
    "class9b-gossip.kz": ("domestic", Category.cyberbullying),
    "free-nation-channel.ru": ("foreign", Category.extremism),
    "northern-storm.nl": ("foreign", Category.terrorism),
}


def cases(sandbox: Sandbox, per_host: int) -> list[Envelope]:
    run = uuid.uuid4().hex[:8]
    return [
        categorized_envelope(
            sandbox.url(host, f"/?n={n}"), host, f"HL-J-{run}-{host[:4]}-{n}", category
        )
        for host, (_, category) in HOSTS.items()
        for n in range(per_host)
    ]


def resolve(bootstrap: str, envelopes: list[Envelope]) -> dict[str, Envelope]:
    asyncio.run(publish_envelopes(bootstrap, CATEGORIZED, envelopes))
    ids = {e.case_id for e in envelopes}

    def done() -> dict[str, list[dict[str, object]]]:
        return stage_events(bootstrap, [JURISDICTION_RESOLVED], "jurisdiction", ids)

    wait_until(lambda: set(done()) == ids, 120, "jurisdiction verdicts")
    return {cid: Envelope.model_validate(docs[0]) for cid, docs in done().items()}


def test_workers_share_lookups_and_a_new_worker_reads_them_from_the_topic(
    pipeline_bootstrap: str, sandbox: Sandbox, stage_worker: StageWorkerFactory, tmp_path: Path
) -> None:
    env = {**sandbox.pipeline_env(tmp_path / "banks"), "HOTLINE_RDAP_TIMEOUT": "2"}
    first = [stage_worker("jurisdiction", **env), stage_worker("jurisdiction", **env)]
    before = sandbox.lookups()
    resolved = resolve(pipeline_bootstrap, cases(sandbox, per_host=10))
    for envelope in resolved.values():
        facts = envelope.case.jurisdiction
        assert facts is not None
        assert facts.jurisdiction == HOSTS[envelope.case.report.host][0]
    asked = {k: sandbox.lookups()[k] - before[k] for k in before}
    # 30 cases would ask 60 questions alone. One network and one registration per host, asked
    # by each of the two workers at most, and once more for a lookup cut off by the rebalance
    # when the second worker joined (its partition's new owner redoes the case).
    assert 2 * len(HOSTS) <= asked["rdap"] + asked["whois"] <= 2 * 3 * len(HOSTS)

    records = asyncio.run(read_topic(pipeline_bootstrap, LOOKUPS))
    keys = {r.key.decode() for r in records if r.key}
    assert {"whois_kz:class9b-gossip.kz", "rdap_domain:northern-storm.nl"} <= keys

    for worker in first:
        worker.stop()
    stage_worker("jurisdiction", **env)
    again = sandbox.lookups()
    later = resolve(pipeline_bootstrap, cases(sandbox, per_host=3))
    assert sandbox.lookups()["rdap"] == again["rdap"]
    assert sandbox.lookups()["whois"] == again["whois"]
    for envelope in later.values():
        facts = envelope.case.jurisdiction
        assert facts is not None
        registration = [lk for lk in facts.lookups if lk.kind in {"whois_kz", "rdap_domain"}]
        assert registration and all(lk.cached and lk.age_s > 0 for lk in registration)
