"""The operations routes on the monitor's rounds: the dashboard page, its data, the latest round
and /metrics, for operators only."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from prometheus_client.parser import text_string_to_metric_families

from schemas.monitor import (
    GroupLag,
    GroupStatus,
    LagSnapshot,
    PartitionLag,
    QueueFigures,
    StageCounts,
)
from tests.fixtures.gateway import RunningGateway

STAGES = ("received", "url-verify", "content-check", "categorize", "jurisdiction", "dispatch")


@dataclass
class Rounds:
    """The monitor's rounds as the gateway's feed would hold them."""

    snapshots: list[LagSnapshot] = field(default_factory=list)

    @property
    def latest(self) -> LagSnapshot | None:
        return self.snapshots[-1] if self.snapshots else None

    def history(self) -> list[LagSnapshot]:
        return list(self.snapshots)


def group(stage: str, lag: int, status: GroupStatus, members: int = 1) -> GroupLag:
    return GroupLag(
        group=f"hotline-{stage}",
        stage=stage,
        topics=[f"hotline.in-{stage}"],
        members=members,
        lag=lag,
        max_lag=lag,
        max_lag_seconds=lag * 0.5,
        rate_per_s=12.5,
        status=status,
        partitions=[
            PartitionLag(
                topic=f"hotline.in-{stage}",
                partition=0,
                earliest_offset=0,
                latest_offset=100 + lag,
                committed_offset=100,
                lag=lag,
                lag_seconds=lag * 0.5,
                status=status,
            )
        ],
    )


def snapshot(at: datetime, stopped_lag: int) -> LagSnapshot:
    groups = [group(s, 0, "OK") for s in STAGES if s != "categorize"]
    groups.insert(3, group("categorize", stopped_lag, "STOP" if stopped_lag else "OK", 0))
    groups.append(group("ledger", 0, "OK"))
    return LagSnapshot(
        at=at,
        interval_s=5,
        window=6,
        round_ms=12.0,
        groups=groups,
        stages=[
            StageCounts(stage=s, processed=10, terminated=1, review=0, dead_lettered=2)
            for s in STAGES
        ],
        queues=QueueFigures(review_waiting=3, review_oldest_age_s=3600, notices_overdue=1),
    )


def with_rounds(gateway: RunningGateway, rounds: Rounds) -> RunningGateway:
    gateway.app.state.gateway.lag = rounds
    return gateway


def test_the_dashboard_shows_each_stage_with_its_status(gateway: RunningGateway) -> None:
    now = datetime.now(UTC)
    rounds = Rounds([snapshot(now - timedelta(seconds=10), 0), snapshot(now, 40)])
    page = with_rounds(gateway, rounds).client.get(
        "/dashboard?lang=en", headers=gateway.login_cookie("operator")
    )
    assert page.status == 200
    html = page.text
    positions = [html.index(f'data-stage="{s}"') for s in STAGES]
    assert positions == sorted(positions)  # drawn in the pipeline's order
    assert 'data-stage="categorize" data-status="STOP"' in html
    assert 'data-stage="ledger" data-status="OK"' in html  # a side service, below
    assert "/static/vendor/uplot/uPlot.iife.min.js" in html
    assert "https://" not in html  # nothing from another origin
    assert gateway.client.get("/static/vendor/uplot/uPlot.iife.min.js").status == 200
    data = gateway.client.get("/dashboard/data.json", headers=gateway.login_cookie("operator"))
    body = data.json()
    assert body["fresh"] is True
    assert body["series"]["lag"]["categorize"] == [0, 40]
    assert len(body["series"]["at"]) == 2


def test_a_dashboard_without_a_monitor_says_so(gateway: RunningGateway) -> None:
    page = gateway.client.get("/dashboard?lang=en", headers=gateway.login_cookie("operator"))
    assert page.status == 200 and "is `hotline monitor` running?" in page.text
    old = Rounds([snapshot(datetime.now(UTC) - timedelta(minutes=5), 0)])
    stale = with_rounds(gateway, old).client.get(
        "/dashboard/data.json", headers=gateway.login_cookie("operator")
    )
    assert stale.json()["fresh"] is False


def test_metrics_use_kafka_lag_exporter_names(gateway: RunningGateway) -> None:
    operator = {"X-API-Key": gateway.keys["operator"]}
    assert gateway.client.get("/metrics", headers=operator).status == 503  # no round yet
    with_rounds(gateway, Rounds([snapshot(datetime.now(UTC), 40)]))
    answer = gateway.client.get("/metrics", headers=operator)
    assert answer.status == 200 and answer.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(answer.text)}
    lag = families["kafka_consumergroup_group_lag"]
    stopped = [s for s in lag.samples if s.labels["group"] == "hotline-categorize"]
    assert stopped and stopped[0].value == 40
    assert {"cluster_name", "group", "topic", "partition"} <= set(stopped[0].labels)
    assert "kafka_partition_latest_offset" in families
    state = gateway.client.get("/api/v1/lag", headers=operator).json()
    assert state["fresh"] is True and len(state["snapshot"]["groups"]) == 7
