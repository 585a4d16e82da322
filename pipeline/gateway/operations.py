"""Operations: the stage-lag dashboard, its data, the monitor's latest round, `/metrics`.

Everything here is read from the lag monitor's rounds on `hotline.monitor` (the gateway follows
the topic, `SnapshotFeed`); the gateway measures nothing itself. The dashboard page draws the
six stages as the pipeline, the side services, the queues, and lag-over-time charts (uPlot,
vendored under /static/vendor/uplot), refreshing itself from `/dashboard/data.json`: a page
route, so the operator's login cookie opens it as it opens the page.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, get_args

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from pipeline.gateway.auth import Operator
from pipeline.gateway.context import Gateway, gateway
from pipeline.gateway.render import page
from pipeline.monitor.feed import is_fresh
from pipeline.monitor.metrics import CONTENT_TYPE, render
from schemas.envelope import StageName
from schemas.monitor import GroupLag, LagSnapshot, QueueFigures, StageCounts

router = APIRouter()
GatewayDep = Annotated[Gateway, Depends(gateway)]
STAGES: tuple[str, ...] = get_args(StageName)
CHART_POINTS = 360  # half an hour of rounds at 5 s


class LagState(BaseModel):
    """The monitor's latest round, and whether a monitor is running."""

    fresh: bool = Field(description="Younger than three of the monitor's intervals.")
    snapshot: LagSnapshot | None


class Series(BaseModel):
    at: list[float] = Field(description="Round times, Unix seconds.")
    lag: dict[str, list[int]]
    lag_seconds: dict[str, list[float]]


class DashboardData(BaseModel):
    fresh: bool
    at: datetime | None
    interval_s: float
    groups: list[GroupLag]
    stages: list[StageCounts]
    queues: QueueFigures | None
    series: Series


def _series(history: list[LagSnapshot]) -> Series:
    points = history[-CHART_POINTS:]
    names = [g.stage for g in points[-1].groups] if points else []
    lag: dict[str, list[int]] = {name: [] for name in names}
    seconds: dict[str, list[float]] = {name: [] for name in names}
    for snapshot in points:
        found = {g.stage: g for g in snapshot.groups}
        for name in names:
            group = found.get(name)
            lag[name].append(group.lag if group else 0)
            seconds[name].append(round(group.max_lag_seconds, 1) if group else 0.0)
    return Series(at=[s.at.timestamp() for s in points], lag=lag, lag_seconds=seconds)


def dashboard_data(gw: Gateway) -> DashboardData:
    latest = gw.lag.latest
    return DashboardData(
        fresh=is_fresh(latest, datetime.now(UTC)),
        at=latest.at if latest else None,
        interval_s=latest.interval_s if latest else 5.0,
        groups=latest.groups if latest else [],
        stages=latest.stages if latest else [],
        queues=latest.queues if latest else None,
        series=_series(gw.lag.history()),
    )


@router.get("/dashboard", response_class=HTMLResponse, include_in_schema=False)
def dashboard(request: Request, gw: GatewayDep, caller: Operator) -> HTMLResponse:
    data = dashboard_data(gw)
    return page(
        request,
        "dashboard.html",
        caller=caller,
        data=data,
        stages=[g for g in data.groups if g.stage in STAGES],
        services=[g for g in data.groups if g.stage not in STAGES],
        dead_letters={s.stage: s.dead_lettered for s in data.stages},
    )


@router.get("/dashboard/data.json", response_model=DashboardData, include_in_schema=False)
def dashboard_json(gw: GatewayDep, caller: Operator) -> DashboardData:
    return dashboard_data(gw)


@router.get("/api/v1/lag", tags=["operations"], response_model=LagState)
def lag_state(gw: GatewayDep, caller: Operator) -> LagState:
    """The lag monitor's latest round: every group's lag, status and members; the queues."""
    latest = gw.lag.latest
    return LagState(fresh=is_fresh(latest, datetime.now(UTC)), snapshot=latest)


@router.get("/metrics", tags=["operations"], response_class=Response)
def metrics(gw: GatewayDep, caller: Operator) -> Response:
    """Prometheus text, names as kafka-lag-exporter's (`kafka_consumergroup_group_lag` …) plus
    the pipeline's own; 503 until the lag monitor has published a round."""
    latest = gw.lag.latest
    if latest is None:
        return Response("no round of the lag monitor yet\n", status_code=503)
    return Response(render(latest), media_type=CONTENT_TYPE)
