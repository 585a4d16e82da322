"""The ledger worker on the broker: it keeps what the topics carry, once, and a rebuild from
the topics alone makes the very same ledger."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from pipeline.config import Settings
from pipeline.ledger.rebuild import rebuild
from pipeline.ledger.store import LedgerMessage, ledger_topics
from pipeline.runtime.kafka_io import assigned_consumer, kafka_producer, read_topic
from pipeline.sandbox.histories import case_history
from schemas import Category, DeadLetter
from tests.fixtures.stage import StageWorkerFactory, group_members, wait_until
from tests.pipeline.ledger.test_store import START, dump, open_ledger

pytestmark = pytest.mark.broker

GROUP = "hotline-ledger"


async def _partitions(bootstrap: str, topics: list[str]) -> list[TopicPartition]:
    consumer, partitions = await assigned_consumer(bootstrap, topics)
    await consumer.stop()
    return partitions


async def rewind_group(bootstrap: str, topics: list[str]) -> dict[TopicPartition, int]:
    """The ledger group starts from the beginning, whatever an earlier test committed: the
    offsets it now starts from."""
    partitions = await _partitions(bootstrap, topics)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=GROUP, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign(partitions)
        starts = await consumer.beginning_offsets(partitions)
        await consumer.commit({tp: OffsetAndMetadata(starts[tp], "") for tp in partitions})
    finally:
        await consumer.stop()
    return dict(starts)


async def committed(bootstrap: str, topics: list[str]) -> dict[TopicPartition, int]:
    partitions = await _partitions(bootstrap, topics)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=GROUP, enable_auto_commit=False
    )
    await consumer.start()
    try:
        return {tp: await consumer.committed(tp) or 0 for tp in partitions}
    finally:
        await consumer.stop()


async def caught_up(bootstrap: str, topics: list[str]) -> bool:
    consumer, partitions = await assigned_consumer(bootstrap, topics)
    try:
        ends = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
    done = await committed(bootstrap, topics)
    return all(done[tp] >= ends[tp] for tp in partitions if ends[tp])


async def publish(bootstrap: str, messages: list[LedgerMessage]) -> None:
    async with kafka_producer(Settings(), bootstrap) as producer:
        for message in messages:
            await producer.send(message.topic, message.value, key=message.key)
        await producer.flush()


def test_the_live_ledger_equals_one_rebuilt_from_the_topics(
    pipeline_bootstrap: str, stage_worker: StageWorkerFactory, tmp_path: Path
) -> None:
    topics = list(ledger_topics(Settings()))
    messages: list[LedgerMessage] = []
    for n, category in enumerate([Category.gambling, Category.hate, Category.drugs]):
        messages += case_history(
            f"HL-LIVE-{n:04d}", f"live{n}.kz", category, START, blocking=n == 0
        )
    garbage = LedgerMessage("hotline.received", b"\xff not an event", b"HL-LIVE-XXXX")
    # Every message twice (a redelivery), and one the ledger cannot read.
    asyncio.run(publish(pipeline_bootstrap, [*messages, garbage, *messages]))
    # Rewound only once no earlier test's ledger worker is in the group (its last commit would
    # land after ours), as kafka-consumer-groups resets only an empty group.
    wait_until(lambda: not group_members(pipeline_bootstrap, GROUP), 90, "an empty ledger group")
    starts = asyncio.run(rewind_group(pipeline_bootstrap, topics))
    assert asyncio.run(committed(pipeline_bootstrap, topics)) == starts
    live_url = f"sqlite:///{tmp_path / 'live.db'}"
    worker = stage_worker("ledger", HOTLINE_DATABASE_URL=live_url)
    wait_until(
        lambda: asyncio.run(caught_up(pipeline_bootstrap, topics)),
        timeout=120,
        what="the ledger worker to reach the end of its topics",
    )
    assert len(group_members(pipeline_bootstrap, GROUP)) == 1  # ours alone took them all
    assert worker.stop() == 0
    # The ledger as this worker made it: up to the offsets it committed (other tests' workers
    # may still write to the session's topics).
    made = asyncio.run(committed(pipeline_bootstrap, topics))
    live = open_ledger(live_url)
    for n in range(3):
        assert live.verify(f"HL-LIVE-{n:04d}") == []
    ours = [row for row in dump(live)["entries"] if row[0].startswith("HL-LIVE-")]
    assert len(ours) == len(messages)  # each once
    letters = asyncio.run(read_topic(pipeline_bootstrap, "hotline.dlq.ledger"))
    assert any(letter.key == b"HL-LIVE-XXXX" for letter in letters)

    rebuilt = open_ledger(f"sqlite:///{tmp_path / 'rebuilt.db'}")
    result = asyncio.run(rebuild(rebuilt, pipeline_bootstrap, topics, batch=50, until=made))
    kept = {row[:3] for row in dump(live)["entries"]}
    missing = sorted({row[:4] for row in dump(rebuilt)["entries"] if row[:3] not in kept})
    errors = [DeadLetter.model_validate_json(letter.value).error[:300] for letter in letters]
    assert not missing, (missing[:5], errors[-3:])
    assert result.appended == len(kept)
    assert any("not UTF-8" in why for why in result.unreadable)
    live_people = {row[0]: row for row in dump(live)["contacts"]}
    rebuilt_people = {row[0]: row for row in dump(rebuilt)["contacts"]}
    differing = sorted(
        (case, live_people.get(case), rebuilt_people.get(case))
        for case in live_people.keys() | rebuilt_people.keys()
        if live_people.get(case) != rebuilt_people.get(case)
    )
    assert not differing, differing[:5]
    assert dump(rebuilt) == dump(live)
