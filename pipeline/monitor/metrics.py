"""A `LagSnapshot` in the Prometheus text format, for the gateway's `/metrics`.

Names and labels follow kafka-lag-exporter's (`kafka_consumergroup_group_*`,
`kafka_partition_*`), so its dashboards and alerts work on the hotline as they are; the
hotline's own figures are `hotline_*`. Each render uses a registry of its own, filled from the
snapshot alone: nothing is kept between scrapes, so a scrape says what the last round saw.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from schemas.monitor import STATUS_ORDER, LagSnapshot, LatencyHistogram

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def latency_buckets(snapshot: LagSnapshot) -> dict[str, LatencyHistogram]:
    """Each stage's latency histogram as the snapshot carries it."""
    return {s.stage: s.latency for s in snapshot.stages if s.latency is not None}


def render(
    snapshot: LagSnapshot, latency_buckets: Mapping[str, LatencyHistogram] | None = None
) -> bytes:
    """The snapshot as Prometheus text; `latency_buckets` (stage → histogram) default to the
    ones the snapshot carries (`LagMonitor.latency_buckets()` gives the monitor's own)."""
    registry = CollectorRegistry(auto_describe=False)
    histograms = dict(latency_buckets) if latency_buckets is not None else None
    registry.register(_SnapshotCollector(snapshot, histograms))
    return generate_latest(registry)


class _SnapshotCollector(Collector):
    def __init__(
        self, snapshot: LagSnapshot, histograms: dict[str, LatencyHistogram] | None
    ) -> None:
        self.snapshot = snapshot
        self.histograms = histograms if histograms is not None else latency_buckets(snapshot)

    def collect(self) -> Iterator[Metric]:
        yield from self._consumer_groups()
        yield from self._partitions()
        yield from self._stages()
        yield from self._queues()

    def _consumer_groups(self) -> Iterator[Metric]:
        cluster = self.snapshot.cluster_name
        by_partition = ["cluster_name", "group", "topic", "partition"]
        by_group = ["cluster_name", "group"]
        offset = GaugeMetricFamily(
            "kafka_consumergroup_group_offset",
            "The group's committed offset of a partition.",
            labels=by_partition,
        )
        lag = GaugeMetricFamily(
            "kafka_consumergroup_group_lag",
            "Messages of a partition the group has not consumed.",
            labels=by_partition,
        )
        lag_seconds = GaugeMetricFamily(
            "kafka_consumergroup_group_lag_seconds",
            "Age of the oldest message of a partition the group has not consumed.",
            labels=by_partition,
        )
        max_lag = GaugeMetricFamily(
            "kafka_consumergroup_group_max_lag",
            "The group's largest partition lag.",
            labels=by_group,
        )
        max_lag_seconds = GaugeMetricFamily(
            "kafka_consumergroup_group_max_lag_seconds",
            "The group's largest partition lag in seconds.",
            labels=by_group,
        )
        sum_lag = GaugeMetricFamily(
            "kafka_consumergroup_group_sum_lag",
            "The group's lag over its partitions.",
            labels=by_group,
        )
        status = GaugeMetricFamily(
            "hotline_consumergroup_status",
            "1 for the group's status (OK, WARN, REWIND, STALL, STOP), 0 for the others.",
            labels=["group", "status"],
        )
        members = GaugeMetricFamily(
            "hotline_consumergroup_members", "Workers in the group.", labels=["group"]
        )
        for group in self.snapshot.groups:
            for p in group.partitions:
                labels = [cluster, group.group, p.topic, str(p.partition)]
                if p.committed_offset is not None:  # as kafka-lag-exporter: no commit, no line
                    offset.add_metric(labels, p.committed_offset)
                lag.add_metric(labels, p.lag)
                lag_seconds.add_metric(labels, p.lag_seconds)
            max_lag.add_metric([cluster, group.group], group.max_lag)
            max_lag_seconds.add_metric([cluster, group.group], group.max_lag_seconds)
            sum_lag.add_metric([cluster, group.group], group.lag)
            for name in STATUS_ORDER:
                status.add_metric([group.group, name], 1.0 if name == group.status else 0.0)
            members.add_metric([group.group], group.members)
        yield from (offset, lag, lag_seconds, max_lag, max_lag_seconds, sum_lag, status, members)

    def _partitions(self) -> Iterator[Metric]:
        labels = ["cluster_name", "topic", "partition"]
        latest = GaugeMetricFamily(
            "kafka_partition_latest_offset", "A partition's end offset.", labels=labels
        )
        earliest = GaugeMetricFamily(
            "kafka_partition_earliest_offset", "A partition's oldest offset.", labels=labels
        )
        seen: set[tuple[str, int]] = set()  # a topic several groups read is one series
        for group in self.snapshot.groups:
            for p in group.partitions:
                if (p.topic, p.partition) in seen:
                    continue
                seen.add((p.topic, p.partition))
                values = [self.snapshot.cluster_name, p.topic, str(p.partition)]
                latest.add_metric(values, p.latest_offset)
                earliest.add_metric(values, p.earliest_offset)
        yield from (latest, earliest)

    def _stages(self) -> Iterator[Metric]:
        events = CounterMetricFamily(
            "hotline_stage_events",
            "Events a stage put out since the monitor started, by outcome.",
            labels=["stage", "outcome"],
        )
        dead = CounterMetricFamily(
            "hotline_stage_dead_lettered",
            "Messages on a stage's dead-letter topic.",
            labels=["stage"],
        )
        latency = HistogramMetricFamily(
            "hotline_stage_latency_seconds",
            "From the event that caused a stage's event to it: waiting for and in the stage.",
            labels=["stage"],
        )
        for stage in self.snapshot.stages:
            for outcome, count in stage.outcomes.items():
                events.add_metric([stage.stage, outcome], count)
            dead.add_metric([stage.stage], stage.dead_lettered)
        for name, histogram in self.histograms.items():
            buckets = [
                (floatToGoString(bound), float(count))
                for bound, count in zip(histogram.bounds_s, histogram.cumulative, strict=True)
            ]
            buckets.append(("+Inf", float(histogram.count)))
            latency.add_metric([name], buckets, sum_value=histogram.sum_s)
        yield from (events, dead, latency)

    def _queues(self) -> Iterator[Metric]:
        queues = self.snapshot.queues
        yield GaugeMetricFamily(
            "hotline_review_queue_size", "Cases waiting for an analyst.", queues.review_waiting
        )
        yield GaugeMetricFamily(
            "hotline_review_oldest_age_seconds",
            "How long the oldest case has waited for an analyst (0: none waits).",
            queues.review_oldest_age_s or 0.0,
        )
        yield GaugeMetricFamily(
            "hotline_notices_overdue",
            "Notices past their deadline that no one has confirmed.",
            queues.notices_overdue,
        )
