"""A monitor round: read the broker, judge each partition over the window, count what the
stages put out, read the queues, and make the `LagSnapshot`. Used by the monitor process and
by `hotline lag` when no monitor runs."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence
from datetime import UTC, datetime

import structlog

from pipeline.config import Settings
from pipeline.ledger.store import Ledger
from pipeline.monitor.evaluate import PartitionSample, partition_status, rate_per_s, worst
from pipeline.monitor.groups import Watched
from pipeline.monitor.options import MonitorOptions
from pipeline.monitor.queues import OverdueNotices, queue_figures
from pipeline.monitor.sample import BrokerSampler, GroupReading, Reading
from pipeline.monitor.tail import OutputTail
from pipeline.monitor.tally import COUNTED_KINDS, StageTally
from pipeline.runtime.topics import load_topics
from schemas.monitor import GroupLag, LagSnapshot, LatencyHistogram, PartitionLag, QueueFigures

log = structlog.get_logger("monitor")

_Key = tuple[str, str, int]  # group, topic, partition


def counted_topics(settings: Settings, watched: Sequence[Watched]) -> dict[str, tuple[str, str]]:
    """The watched stages' outputs whose records are events to count (topics.yaml `ledger:`
    kinds), each with its record kind and the stage that writes it."""
    specs = load_topics(settings.topics_file)
    found: dict[str, tuple[str, str]] = {}
    for w in watched:
        for topic in w.outputs:
            spec = specs.get(topic)
            if spec is not None and spec.ledger in COUNTED_KINDS:
                found.setdefault(topic, (spec.ledger, w.stage))
    return found


class LagMonitor:
    def __init__(
        self,
        settings: Settings,
        bootstrap: str,
        watched: Sequence[Watched],
        options: MonitorOptions | None = None,
        *,
        ledger: Ledger | None = None,
        follow_outputs: bool = True,
    ) -> None:
        self.settings = settings
        self.options = options or MonitorOptions()
        self.watched = list(watched)
        self.sampler = BrokerSampler(
            bootstrap, self.watched, offsets_by_consumer=settings.broker == "tansu"
        )
        self.tally = StageTally(
            self.options.monitor_latency_memory, self.options.monitor_latency_reservoir
        )
        topics = counted_topics(settings, self.watched) if follow_outputs else {}
        self.tail = OutputTail(bootstrap, topics, self.tally)
        self.ledger = ledger
        self.overdue = OverdueNotices()
        self._queues = QueueFigures(review_waiting=0, notices_overdue=0)
        self.history: dict[_Key, deque[PartitionSample]] = {}

    async def start(self) -> None:
        await self.sampler.start()
        await self.tail.start()

    async def stop(self) -> None:
        await self.tail.stop()
        await self.sampler.stop()

    async def __aenter__(self) -> LagMonitor:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    @property
    def window(self) -> int:
        return self.options.monitor_window

    async def round(self) -> LagSnapshot:
        started = time.perf_counter()
        reading = await self.sampler.read()
        groups = self.judge(reading)
        now = datetime.fromtimestamp(reading.at, UTC)
        return LagSnapshot(
            at=now,
            cluster_name=self.options.monitor_cluster_name,
            interval_s=self.options.monitor_interval,
            window=self.window,
            round_ms=0.0,
            groups=groups,
            stages=self.tally.stage_counts(reading.dead_letters),
            queues=self.queues(now),
        ).model_copy(update={"round_ms": (time.perf_counter() - started) * 1000})

    def judge(self, reading: Reading) -> list[GroupLag]:
        """Add the round to each partition's window and judge every group."""
        seen: set[_Key] = set()
        groups = [self._group(g, reading.at, seen) for g in reading.groups]
        for gone in set(self.history) - seen:  # a partition or topic no longer there
            del self.history[gone]
        return groups

    def _group(self, reading: GroupReading, at: float, seen: set[_Key]) -> GroupLag:
        partitions, series = [], []
        for p in reading.partitions:
            key = (reading.watched.group, p.topic, p.partition)
            seen.add(key)
            samples = self.history.setdefault(key, deque(maxlen=self.window))
            sample = PartitionSample(at, p.earliest, p.latest, p.committed, reading.members)
            samples.append(sample)
            series.append(samples)
            lag_seconds = 0.0
            if sample.lag and p.first_unconsumed_ms is not None and p.first_unconsumed_ms >= 0:
                lag_seconds = max(at - p.first_unconsumed_ms / 1000, 0.0)
            partitions.append(
                PartitionLag(
                    topic=p.topic,
                    partition=p.partition,
                    earliest_offset=p.earliest,
                    latest_offset=p.latest,
                    committed_offset=p.committed,
                    lag=sample.lag,
                    lag_seconds=lag_seconds,
                    status=partition_status(samples, self.window),
                )
            )
        return GroupLag(
            group=reading.watched.group,
            stage=reading.watched.stage,
            topics=list(reading.watched.inputs),
            members=reading.members,
            lag=sum(p.lag for p in partitions),
            max_lag=max((p.lag for p in partitions), default=0),
            max_lag_seconds=max((p.lag_seconds for p in partitions), default=0.0),
            rate_per_s=rate_per_s(series, self.window),
            status=worst(p.status for p in partitions),
            partitions=partitions,
        )

    def queues(self, now: datetime) -> QueueFigures:
        if self.ledger is None:
            return self._queues
        try:
            self._queues = queue_figures(self.ledger, self.overdue, now)
        except Exception as error:  # the database away: the last figures, and the lag
            log.warning("monitor cannot read the ledger", error=str(error))
        return self._queues

    def latency_buckets(self) -> dict[str, LatencyHistogram]:
        return self.tally.latency_buckets()
