"""Plain aiokafka helpers for the CLI, the benchmark and the tests: produce, read a topic."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from pipeline.config import Settings
from pipeline.runtime.profile import profile_for


@asynccontextmanager
async def kafka_producer(settings: Settings, bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    profile = profile_for(settings.broker)
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=profile.idempotent_producer,
        **profile.producer_settings(),
    )
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()


async def assigned_consumer(
    bootstrap: str, topic: str | Sequence[str], **options: Any
) -> tuple[AIOKafkaConsumer, list[TopicPartition]]:
    """A group-less consumer of every partition of `topic` (or of each of several topics),
    positioned at the beginning."""
    topics = [topic] if isinstance(topic, str) else list(topic)
    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        **options,
    )
    await consumer.start()
    for _ in range(100):  # the assignment follows the first metadata answer
        if {tp.topic for tp in consumer.assignment()} == set(topics):
            break
        await asyncio.sleep(0.05)
    assigned = sorted(consumer.assignment(), key=lambda tp: (tp.topic, tp.partition))
    missing = set(topics) - {tp.topic for tp in assigned}
    if missing:
        await consumer.stop()
        raise KeyError(f"no topic {', '.join(sorted(missing))} on {bootstrap}")
    return consumer, assigned


async def read_topic(
    bootstrap: str, topic: str, *, timeout: float = 60.0
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of `topic` up to its end offsets."""
    consumer, assigned = await assigned_consumer(bootstrap, topic)
    records: list[ConsumerRecord[bytes, bytes]] = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            ends = await consumer.end_offsets(assigned)
            at_end = all([await consumer.position(tp) >= ends[tp] for tp in assigned])
            if at_end:
                return records
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{topic}: read {len(records)} records in {timeout}s")
            batches = await consumer.getmany(timeout_ms=200, max_records=5000)
            for batch in batches.values():
                records.extend(batch)
    finally:
        await consumer.stop()


async def newest_messages(bootstrap: str, topic: str, count: int) -> list[bytes]:
    consumer, assigned = await assigned_consumer(bootstrap, topic)
    try:
        ends = await consumer.end_offsets(assigned)
        wanted = 0
        for tp in assigned:
            start = max(ends[tp] - count, 0)
            consumer.seek(tp, start)
            wanted += ends[tp] - start
        records: list[ConsumerRecord[bytes, bytes]] = []
        while len(records) < wanted:
            batches = await consumer.getmany(timeout_ms=1000)
            if not batches:
                break
            for batch in batches.values():
                records.extend(batch)
    finally:
        await consumer.stop()
    records.sort(key=lambda r: r.timestamp)
    return [r.value for r in records[-count:] if r.value is not None]
