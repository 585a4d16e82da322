"""One round of reading the broker for the watched groups: per input partition the earliest
and end offsets and the group's committed offset, each group's members, the age of the first
message each lagging partition has not consumed, and each stage's dead letters.

The clients stay open between rounds (one admin client, one group-less consumer; on Tansu one
consumer per group as well, see below), so a round is a handful of requests, not connections.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from pipeline.monitor.groups import Watched

log = structlog.get_logger("monitor")

_TOPICS_REFRESH_S = 30.0  # new topics and partitions are found within this
_FETCH_TIMEOUT_S = 1.0  # waiting for the first unconsumed records of a round


@dataclass(frozen=True)
class PartitionReading:
    topic: str
    partition: int
    earliest: int
    latest: int
    committed: int | None
    # Timestamp (ms) of the first message the group has not consumed; None without lag.
    first_unconsumed_ms: int | None = None

    @property
    def position(self) -> int:
        return self.earliest if self.committed is None else max(self.committed, self.earliest)


@dataclass(frozen=True)
class GroupReading:
    watched: Watched
    members: int
    partitions: list[PartitionReading]


@dataclass(frozen=True)
class Reading:
    """What one round read."""

    at: float  # UNIX seconds
    groups: list[GroupReading]
    dead_letters: dict[str, int]  # stage → messages on its dead-letter topic


class BrokerSampler:
    def __init__(
        self,
        bootstrap: str,
        watched: Sequence[Watched],
        *,
        offsets_by_consumer: bool = False,
        request_timeout_ms: int = 10_000,
    ) -> None:
        """`offsets_by_consumer`: read committed offsets through a consumer of each group
        (Tansu, whose answer to the admin's OffsetFetch aiokafka cannot decode)."""
        self.bootstrap = bootstrap
        self.watched = list(watched)
        self.offsets_by_consumer = offsets_by_consumer
        self.request_timeout_ms = request_timeout_ms
        self._admin: AIOKafkaAdminClient | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._group_consumers: dict[str, AIOKafkaConsumer] = {}
        self._coordinators: dict[str, int] = {}
        self._partitions: dict[str, list[int]] = {}
        self._partitions_read = float("-inf")
        # (topic, partition, offset) → timestamp ms: a stopped group's first unconsumed
        # message is fetched once, not every round.
        self._stamps: dict[tuple[str, int, int], int] = {}

    async def start(self) -> None:
        self._admin = AIOKafkaAdminClient(
            bootstrap_servers=self.bootstrap, request_timeout_ms=self.request_timeout_ms
        )
        await self._admin.start()
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            enable_auto_commit=False,
            auto_offset_reset="earliest",  # a committed offset retention passed: its oldest
            request_timeout_ms=self.request_timeout_ms,
            # One record per lagging partition is wanted, but the broker answers with whole
            # producer batches and sends one larger than this limit only for the first
            # partition of an answer: the limit must hold a stage's largest batch, or each
            # lagging partition costs a fetch of its own.
            max_partition_fetch_bytes=1024 * 1024,
        )
        await self._consumer.start()

    async def stop(self) -> None:
        for consumer in [*self._group_consumers.values(), self._consumer]:
            if consumer is not None:
                await consumer.stop()
        self._group_consumers.clear()
        if self._admin is not None:
            await self._admin.close()

    async def __aenter__(self) -> BrokerSampler:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    @property
    def admin(self) -> AIOKafkaAdminClient:
        assert self._admin is not None, "start() the sampler first"
        return self._admin

    @property
    def consumer(self) -> AIOKafkaConsumer:
        assert self._consumer is not None, "start() the sampler first"
        return self._consumer

    # --- one round -------------------------------------------------------------------------

    async def read(self) -> Reading:
        at = time.time()
        partitions = await self._topic_partitions()
        inputs = {w.group: _tps(partitions, w.inputs) for w in self.watched}
        letters = {w.stage: _tps(partitions, (w.dead_letter_topic,)) for w in self.watched}
        every = sorted(
            {tp for tps in (*inputs.values(), *letters.values()) for tp in tps},
            key=lambda tp: (tp.topic, tp.partition),
        )
        earliest, latest, committed, members = await asyncio.gather(
            self.consumer.beginning_offsets(every) if every else _empty(),
            self.consumer.end_offsets(every) if every else _empty(),
            asyncio.gather(*(self._committed(w.group, inputs[w.group]) for w in self.watched)),
            asyncio.gather(*(self._members(w.group) for w in self.watched)),
        )
        groups = []
        for watched, offsets, count in zip(self.watched, committed, members, strict=True):
            groups.append(
                GroupReading(
                    watched,
                    count,
                    [
                        PartitionReading(
                            tp.topic, tp.partition, earliest[tp], latest[tp], offsets.get(tp)
                        )
                        for tp in inputs[watched.group]
                    ],
                )
            )
        groups = await self._with_first_unconsumed(groups)
        dead = {
            stage: sum(latest[tp] - earliest[tp] for tp in tps) for stage, tps in letters.items()
        }
        return Reading(at, groups, dead)

    async def _topic_partitions(self) -> dict[str, list[int]]:
        """Partition numbers of every topic the watched groups touch, refreshed now and then
        (asking the consumer for offsets of a partition that does not exist would hang)."""
        if time.monotonic() - self._partitions_read < _TOPICS_REFRESH_S:
            return self._partitions
        names = sorted({t for w in self.watched for t in (*w.inputs, w.dead_letter_topic)})
        found: dict[str, list[int]] = {}
        for described in await self.admin.describe_topics(names):
            if described.get("error_code", 0) == 0 and described["partitions"]:
                found[described["topic"]] = sorted(p["partition"] for p in described["partitions"])
        missing = sorted(set(names) - set(found))
        if missing and missing != sorted(set(names) - set(self._partitions)):
            log.warning("monitor finds no such topics", topics=missing)
        self._partitions, self._partitions_read = found, time.monotonic()
        return found

    async def _coordinator(self, group: str) -> int:
        if group not in self._coordinators:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self.request_timeout_ms / 1000
            while True:
                try:
                    self._coordinators[group] = await self.admin.find_coordinator(group)
                    break
                except KafkaError as error:
                    # A new broker makes its offsets topic at the first group's question.
                    if not error.retriable or loop.time() > deadline:
                        raise
                    await asyncio.sleep(0.2)
        return self._coordinators[group]

    async def _committed(
        self, group: str, tps: list[TopicPartition]
    ) -> dict[TopicPartition, int | None]:
        if not tps:
            return {}
        if self.offsets_by_consumer:
            return await self._committed_by_consumer(group, tps)
        try:
            offsets = await self.admin.list_consumer_group_offsets(
                group, await self._coordinator(group)
            )
        except Exception:
            self._coordinators.pop(group, None)  # moved, perhaps: found again next round
            raise
        wanted = set(tps)
        return {
            tp: o.offset if o.offset >= 0 else None for tp, o in offsets.items() if tp in wanted
        }

    async def _committed_by_consumer(
        self, group: str, tps: list[TopicPartition]
    ) -> dict[TopicPartition, int | None]:
        consumer = self._group_consumers.get(group)
        if consumer is None:
            # Never subscribed, it never joins the group: it only asks the coordinator.
            consumer = AIOKafkaConsumer(
                bootstrap_servers=self.bootstrap,
                group_id=group,
                enable_auto_commit=False,
                request_timeout_ms=self.request_timeout_ms,
            )
            await consumer.start()
            self._group_consumers[group] = consumer
        offsets = await asyncio.gather(*(consumer.committed(tp) for tp in tps))
        return dict(zip(tps, offsets, strict=True))

    async def _members(self, group: str) -> int:
        # One group per request: aiokafka 0.14 decodes a DescribeGroups v3 answer with the v2
        # layout, which holds for the first group of an answer and garbles the next ones.
        try:
            [answer] = await self.admin.describe_consumer_groups(
                [group], group_coordinator_id=await self._coordinator(group)
            )
        except Exception:
            self._coordinators.pop(group, None)
            raise
        described: dict[str, Any] = answer.to_object()["groups"][0]
        return len(described["members"])

    async def _with_first_unconsumed(self, groups: list[GroupReading]) -> list[GroupReading]:
        """The timestamp of the message at each lagging partition's position."""
        wanted = {
            (p.topic, p.partition, p.position)
            for g in groups
            for p in g.partitions
            if p.latest > p.position
        }
        stamps = {key: self._stamps[key] for key in wanted if key in self._stamps}
        missing = {TopicPartition(t, p): offset for t, p, offset in wanted - set(stamps)}
        if missing:
            for tp, stamp in (await self._first_timestamps(missing)).items():
                stamps[(tp.topic, tp.partition, missing[tp])] = stamp
        self._stamps = stamps  # only what is still someone's position
        return [
            GroupReading(
                g.watched,
                g.members,
                [
                    PartitionReading(
                        p.topic,
                        p.partition,
                        p.earliest,
                        p.latest,
                        p.committed,
                        stamps.get((p.topic, p.partition, p.position)),
                    )
                    for p in g.partitions
                ],
            )
            for g in groups
        ]

    async def _first_timestamps(
        self, wanted: dict[TopicPartition, int]
    ) -> dict[TopicPartition, int]:
        consumer = self.consumer
        consumer.assign(list(wanted))
        for tp, offset in wanted.items():
            consumer.seek(tp, offset)
        found: dict[TopicPartition, int] = {}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _FETCH_TIMEOUT_S
        try:
            while len(found) < len(wanted):
                left = deadline - loop.time()
                pending = [tp for tp in wanted if tp not in found]
                if left <= 0:
                    log.debug("monitor found no record at", partitions=[str(tp) for tp in pending])
                    break
                # One record at a time: the rest of each batch is never decoded.
                batches = await consumer.getmany(
                    *pending, timeout_ms=int(left * 1000), max_records=1
                )
                for tp, records in batches.items():
                    if records and tp not in found:
                        found[tp] = records[0].timestamp
                        consumer.pause(tp)  # one is enough: fetch no more of it
        finally:
            consumer.unsubscribe()  # nothing is fetched in the background between rounds
        return found


def _tps(partitions: dict[str, list[int]], topics: Sequence[str]) -> list[TopicPartition]:
    return [TopicPartition(t, p) for t in topics for p in partitions.get(t, [])]


async def _empty() -> dict[TopicPartition, int]:
    return {}
