"""Reading the monitor's rounds back from `hotline.monitor`: the latest, the last few, or
every new one as it comes (the dashboard, `/metrics`, `hotline lag`).

Every snapshot is keyed `lag`, so they all sit in one partition in order; each partition's
newest is still read, so a topic made with another partitioner is read right too.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from pydantic import ValidationError

from pipeline.runtime.kafka_io import assigned_consumer, newest_messages
from pipeline.runtime.topics import MONITOR
from schemas.monitor import LagSnapshot


def parse_snapshot(raw: bytes | None) -> LagSnapshot | None:
    """A snapshot, or None for a record that is not one (another version's, say)."""
    if raw is None:
        return None
    try:
        return LagSnapshot.model_validate_json(raw)
    except ValidationError:
        return None


async def recent_snapshots(bootstrap: str, count: int) -> list[LagSnapshot]:
    """The last `count` snapshots on `hotline.monitor`, oldest first."""
    try:
        values = await newest_messages(bootstrap, MONITOR, count)
    except KeyError:  # the topic is not made yet: no monitor ever published
        return []
    found = [parse_snapshot(raw) for raw in values]
    return sorted((s for s in found if s is not None), key=lambda s: s.at)


async def latest_snapshot(bootstrap: str) -> LagSnapshot | None:
    """The newest snapshot on `hotline.monitor`; None when no monitor ever published."""
    found = await recent_snapshots(bootstrap, 1)
    return found[-1] if found else None


def is_fresh(snapshot: LagSnapshot | None, now: datetime | None = None) -> bool:
    """Younger than three of its intervals: a monitor is running."""
    if snapshot is None:
        return False
    age = ((now or datetime.now(UTC)) - snapshot.at).total_seconds()
    return age < 3 * snapshot.interval_s


async def follow_snapshots(bootstrap: str, *, history: int = 1) -> AsyncIterator[LagSnapshot]:
    """The last `history` snapshots (0: none), then every new one as the monitor publishes it."""
    consumer, assigned = await assigned_consumer(bootstrap, MONITOR)
    try:
        ends = await consumer.end_offsets(assigned)
        for tp in assigned:
            consumer.seek(tp, max(ends[tp] - history, 0))
        while True:
            batches = await consumer.getmany(timeout_ms=1000)
            records = sorted(
                (r for batch in batches.values() for r in batch), key=lambda r: r.timestamp
            )
            for record in records:
                snapshot = parse_snapshot(record.value)
                if snapshot is not None:
                    yield snapshot
    finally:
        await consumer.stop()


class SnapshotFeed:
    """Keeps the latest snapshots of `hotline.monitor` in memory, following the topic in the
    background: for a process that serves them (the gateway), one consumer for all requests.

        feed = SnapshotFeed(bootstrap, keep=720)   # an hour of rounds at 5 s
        await feed.start()                         # returns once the recent ones are read
        feed.latest, feed.history()                # None / [] until a monitor published
        await feed.stop()
    """

    def __init__(self, bootstrap: str, keep: int = 720) -> None:
        self.bootstrap = bootstrap
        self.keep = keep
        self._snapshots: deque[LagSnapshot] = deque(maxlen=keep)
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    @property
    def latest(self) -> LagSnapshot | None:
        return self._snapshots[-1] if self._snapshots else None

    def history(self) -> list[LagSnapshot]:
        """The snapshots kept, oldest first."""
        return list(self._snapshots)

    async def wait_next(self, timeout: float | None = None) -> LagSnapshot | None:
        """The next snapshot to arrive (None when none did within `timeout` seconds)."""
        self._changed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout)
            return self.latest
        return None

    async def start(self) -> None:
        consumer, assigned = await assigned_consumer(self.bootstrap, MONITOR)
        ends = await consumer.end_offsets(assigned)
        for tp in assigned:
            consumer.seek(tp, max(ends[tp] - self.keep, 0))
        self._consumer = consumer
        # What is there already is read before start() returns: `latest` is right at once.
        while any([await consumer.position(tp) < ends[tp] for tp in assigned]):
            self._take(await consumer.getmany(timeout_ms=500))
        self._task = asyncio.create_task(self._follow(consumer))

    def _take(self, batches: Mapping[TopicPartition, list[ConsumerRecord[bytes, bytes]]]) -> None:
        records = sorted(
            (r for batch in batches.values() for r in batch), key=lambda r: r.timestamp
        )
        for record in records:
            snapshot = parse_snapshot(record.value)
            if snapshot is not None:
                self._snapshots.append(snapshot)
                self._changed.set()

    async def _follow(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            try:
                self._take(await consumer.getmany(timeout_ms=1000))
            except Exception:  # the broker away: keep the last snapshots, try again
                await asyncio.sleep(1.0)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            await self._consumer.stop()
