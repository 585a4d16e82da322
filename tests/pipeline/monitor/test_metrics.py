"""`/metrics` from a snapshot: Prometheus text that parses, with kafka-lag-exporter's names."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from pipeline.monitor.latency import Latencies
from pipeline.monitor.metrics import latency_buckets, render
from schemas.monitor import (
    GroupLag,
    LagSnapshot,
    PartitionLag,
    QueueFigures,
    StageCounts,
)


def partition(topic: str, number: int, committed: int | None, latest: int) -> PartitionLag:
    lag = latest - (committed or 0)
    return PartitionLag(
        topic=topic,
        partition=number,
        earliest_offset=0,
        latest_offset=latest,
        committed_offset=committed,
        lag=lag,
        lag_seconds=2.5 * lag,
        status="STOP" if lag else "OK",
    )


def snapshot() -> LagSnapshot:
    latencies = Latencies(100)
    for seconds in (0.02, 0.2, 2.0, 20.0):
        latencies.add(seconds)
    stopped = [partition("hotline.received", 0, 10, 14), partition("hotline.received", 1, None, 3)]
    ledger = [partition("hotline.received", 0, 14, 14), partition("hotline.notices", 0, 2, 2)]
    return LagSnapshot(
        at=datetime(2026, 11, 2, 9, 0, tzinfo=UTC),
        cluster_name="kz-hotline",
        interval_s=5,
        window=6,
        round_ms=12.0,
        groups=[
            GroupLag(
                group="hotline-url-verify",
                stage="url-verify",
                topics=["hotline.received"],
                members=0,
                lag=7,
                max_lag=4,
                max_lag_seconds=10.0,
                rate_per_s=0.0,
                status="STOP",
                partitions=stopped,
            ),
            GroupLag(
                group="hotline-ledger",
                stage="ledger",
                topics=["hotline.received", "hotline.notices"],
                members=1,
                lag=0,
                max_lag=0,
                max_lag_seconds=0.0,
                rate_per_s=3.5,
                status="OK",
                partitions=ledger,
            ),
        ],
        stages=[
            StageCounts(
                stage="url-verify",
                processed=9,
                terminated=2,
                review=0,
                outcomes={"continue": 7, "terminated": 2},
                dead_lettered=1,
                latency_p50_s=0.2,
                latency_p90_s=20.0,
                latency=latencies.histogram(),
            )
        ],
        queues=QueueFigures(review_waiting=3, review_oldest_age_s=600.0, notices_overdue=2),
    )


def samples(text: str) -> dict[str, list[Sample]]:
    found: dict[str, list[Sample]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append(sample)
    return found


def value(found: dict[str, list[Sample]], name: str, **labels: str) -> float:
    [match] = [s for s in found[name] if all(s.labels.get(k) == v for k, v in labels.items())]
    return match.value


def test_the_kafka_lag_exporter_series_are_there() -> None:
    found = samples(render(snapshot()).decode())
    where = {"cluster_name": "kz-hotline", "group": "hotline-url-verify"}
    assert value(found, "kafka_consumergroup_group_lag", **where, partition="0") == 4
    assert value(found, "kafka_consumergroup_group_lag_seconds", **where, partition="0") == 10.0
    assert value(found, "kafka_consumergroup_group_offset", **where, partition="0") == 10
    # A partition never committed has a lag but no offset, as kafka-lag-exporter shows it.
    assert value(found, "kafka_consumergroup_group_lag", **where, partition="1") == 3
    assert not [
        s
        for s in found["kafka_consumergroup_group_offset"]
        if s.labels["group"] == "hotline-url-verify" and s.labels["partition"] == "1"
    ]
    assert value(found, "kafka_consumergroup_group_max_lag", **where) == 4
    assert value(found, "kafka_consumergroup_group_max_lag_seconds", **where) == 10.0
    assert value(found, "kafka_consumergroup_group_sum_lag", **where) == 7
    assert set(found["kafka_consumergroup_group_lag"][0].labels) == {
        "cluster_name", "group", "topic", "partition"
    }  # fmt: skip
    # A partition two groups read is one series.
    latest = [s for s in found["kafka_partition_latest_offset"] if s.labels["partition"] == "0"]
    assert sorted(s.labels["topic"] for s in latest) == ["hotline.notices", "hotline.received"]
    assert value(found, "kafka_partition_earliest_offset", topic="hotline.notices") == 0


def test_the_hotline_series_are_there() -> None:
    found = samples(render(snapshot()).decode())
    statuses = {
        s.labels["status"]: s.value
        for s in found["hotline_consumergroup_status"]
        if s.labels["group"] == "hotline-url-verify"
    }
    assert statuses == {"OK": 0, "WARN": 0, "REWIND": 0, "STALL": 0, "STOP": 1}
    assert value(found, "hotline_consumergroup_members", group="hotline-ledger") == 1
    events = "hotline_stage_events_total"
    assert value(found, events, stage="url-verify", outcome="terminated") == 2
    assert value(found, "hotline_stage_dead_lettered_total", stage="url-verify") == 1
    assert value(found, "hotline_review_queue_size") == 3
    assert value(found, "hotline_review_oldest_age_seconds") == 600
    assert value(found, "hotline_notices_overdue") == 2


def test_the_latency_histogram_has_every_bucket() -> None:
    found = samples(render(snapshot()).decode())
    buckets = {
        s.labels["le"]: s.value
        for s in found["hotline_stage_latency_seconds_bucket"]
        if s.labels["stage"] == "url-verify"
    }
    assert buckets["0.025"] == 1 and buckets["0.25"] == 2 and buckets["2.5"] == 3
    assert buckets["30.0"] == 4 and buckets["+Inf"] == 4
    assert len(buckets) == len(snapshot().stages[0].latency.bounds_s) + 1  # type: ignore[union-attr]
    assert value(found, "hotline_stage_latency_seconds_count", stage="url-verify") == 4
    assert value(found, "hotline_stage_latency_seconds_sum", stage="url-verify") == pytest.approx(
        22.22
    )


def test_latency_buckets_can_come_from_elsewhere() -> None:
    one = snapshot()
    other = Latencies(10)
    other.add(0.001)
    text = render(one, {"dispatch": other.histogram()}).decode()
    found = samples(text)
    stages = {s.labels["stage"] for s in found["hotline_stage_latency_seconds_count"]}
    assert stages == {"dispatch"}
    assert latency_buckets(one).keys() == {"url-verify"}


def test_an_empty_snapshot_renders() -> None:
    quiet = QueueFigures(review_waiting=0, notices_overdue=0)
    empty = snapshot().model_copy(update={"groups": [], "stages": [], "queues": quiet})
    found = samples(render(empty).decode())
    assert value(found, "hotline_review_oldest_age_seconds") == 0
