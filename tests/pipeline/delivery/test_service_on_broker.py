"""Delivery on a real broker: a worker killed again and again mid-run leaves exactly one
distinct key per notice at the sink; replaying dispatch from the beginning sends nothing new."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from agents.categorize import CATEGORIZED
from agents.dispatch import DISPATCHED
from pipeline.cli.bench.dispatch import notices_for_sink
from pipeline.config import Settings
from pipeline.runtime.kafka_io import kafka_producer, read_topic
from pipeline.runtime.topics import DELIVERIES, NOTICES, load_topics
from pipeline.sandbox import Sandbox
from pipeline.sandbox.cases import categorized_envelope
from schemas import Category
from tests.fixtures.stage import StageWorkerFactory, publish_envelopes, stage_events, wait_until

pytestmark = pytest.mark.broker


def delivered_keys(bootstrap: str, keys: set[str]) -> set[str]:
    records = asyncio.run(read_topic(bootstrap, DELIVERIES))
    found = set()
    for record in records:
        receipt = orjson.loads(record.value)
        if receipt["idempotency_key"] in keys and receipt["status"] == "delivered":
            found.add(receipt["idempotency_key"])
    return found


def keys_at_sink(sandbox: Sandbox) -> list[str]:
    found = []
    for mail in sandbox.mailbox:
        for line in mail.data.split(b"\r\n\r\n", 1)[0].splitlines():
            if line.lower().startswith(b"message-id:"):
                found.append(line.split(b":", 1)[1].strip().strip(b"<>").split(b"@")[0].decode())
    return found


def publish(bootstrap: str, notices: list[tuple[bytes, bytes]]) -> None:
    async def go() -> None:
        async with kafka_producer(Settings(), bootstrap) as producer:
            sent = [await producer.send(NOTICES, value, key=key) for key, value in notices]
            await asyncio.gather(*sent)

    asyncio.run(go())


def test_a_worker_killed_again_and_again_leaves_one_key_per_notice_at_the_sink(
    pipeline_bootstrap: str,
    stage_worker: StageWorkerFactory,
    tmp_path: Path,
    record_property: object,
) -> None:
    with Sandbox(latency=0.05) as sandbox:  # a mail server that takes 50 ms per message
        run = uuid.uuid4().hex[:8]
        notices = notices_for_sink(f"HL-KILL-{run}", 300)
        keys = {orjson.loads(value)["idempotency_key"] for _, value in notices}
        publish(pipeline_bootstrap, notices)
        env = {**sandbox.pipeline_env(tmp_path / "banks"), "HOTLINE_CONCURRENCY": "4"}
        kills = 0
        for _ in range(5):
            worker = stage_worker("delivery", **env)
            before = len(delivered_keys(pipeline_bootstrap, keys))
            deadline = time.monotonic() + 60
            # Kill it once it has delivered something more: mid-run, with sends in flight.
            while time.monotonic() < deadline:
                now = len(delivered_keys(pipeline_bootstrap, keys))
                if now == len(keys) or now >= before + 25:
                    break
                time.sleep(0.3)
            if len(delivered_keys(pipeline_bootstrap, keys)) == len(keys):
                break
            worker.kill()
            kills += 1
        else:
            stage_worker("delivery", **env)  # the last one runs to the end
        wait_until(lambda: delivered_keys(pipeline_bootstrap, keys) == keys, 120, "every notice")
        at_sink = [key for key in keys_at_sink(sandbox) if key in keys]
        resent = len(at_sink) - len(set(at_sink))
        record_property("delivery_kills", kills)  # type: ignore[operator]
        record_property("delivery_raw_resends", resent)  # type: ignore[operator]
        print(f"{kills} kills, {len(at_sink)} messages at the sink, {resent} re-sends")
        assert kills >= 3
        assert set(at_sink) == keys  # every notice reached the sink
        # Re-sends happen only for sends in flight at a kill (at most the concurrency each).
        assert resent <= kills * 4


def test_replaying_dispatch_from_the_beginning_delivers_nothing_new(
    pipeline_bootstrap: str, sandbox: Sandbox, stage_worker: StageWorkerFactory, tmp_path: Path
) -> None:
    env = sandbox.pipeline_env(tmp_path / "banks")
    run = uuid.uuid4().hex[:8]
    hosts = {"kazinfo-news.kz": Category.hate, "street-fights.ru": Category.violence,
             "best-casino.kz": Category.gambling}  # fmt: skip
    cases = [
        categorized_envelope(sandbox.url(host, "/"), host, f"HL-REPLAY-{run}-{n}", category)
        for n, (host, category) in enumerate(hosts.items())
    ]
    ids = {c.case_id for c in cases}
    for name in ("jurisdiction", "delivery"):
        stage_worker(name, **env)
    dispatch = stage_worker("dispatch", **env)
    asyncio.run(publish_envelopes(pipeline_bootstrap, CATEGORIZED, cases))

    def routed() -> dict[str, list[dict[str, Any]]]:
        return stage_events(pipeline_bootstrap, [DISPATCHED], "dispatch", ids)

    wait_until(lambda: set(routed()) == ids, 120, "the cases dispatched")
    keys = {k for docs in routed().values() for k in docs[0]["case"]["routing"]["notices"]}

    def answered() -> set[str]:
        records = asyncio.run(read_topic(pipeline_bootstrap, DELIVERIES))
        return {orjson.loads(r.value)["idempotency_key"] for r in records} & keys

    wait_until(lambda: answered() == keys, 120, "every notice answered")
    mailed = [k for k in keys_at_sink(sandbox) if k in keys]
    receipts_before = len(asyncio.run(read_topic(pipeline_bootstrap, DELIVERIES)))

    # Every dispatch worker stops; the group is rewound to the first offset; one starts again.
    for worker in [w for w in stage_worker.started if w.stage == "dispatch"]:  # type: ignore[attr-defined]
        worker.stop()
    asyncio.run(rewind(pipeline_bootstrap, "hotline-dispatch", "hotline.jurisdiction-resolved"))
    stage_worker("dispatch", **env)

    def notices_twice() -> bool:
        records = asyncio.run(read_topic(pipeline_bootstrap, NOTICES))
        seen = [orjson.loads(r.value)["idempotency_key"] for r in records]
        return all(seen.count(k) >= 2 for k in keys)

    wait_until(notices_twice, 120, "the replayed notices")
    time.sleep(3)  # the time delivery would need to send them again
    assert [k for k in keys_at_sink(sandbox) if k in keys] == mailed
    assert len(asyncio.run(read_topic(pipeline_bootstrap, DELIVERIES))) == receipts_before
    assert dispatch.process is not None


async def rewind(bootstrap: str, group: str, topic: str) -> None:
    """Commit offset 0 on every partition of `topic` for `group` (no member may be live)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        assigned = [TopicPartition(topic, p) for p in range(load_topics()[topic].partitions)]
        consumer.assign(assigned)
        await consumer.commit({tp: 0 for tp in assigned})
    finally:
        await consumer.stop()
