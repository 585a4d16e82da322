"""`hotline lag [--watch] [--json]`: how far behind each stage is, from the monitor's latest
round on `hotline.monitor`, or sampled here when no monitor runs; `hotline monitor`: the
monitor process itself."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console, Group
from rich.live import Live
from rich.progress import Progress
from rich.table import Table
from rich.text import Text

from pipeline.config import Settings, get_settings
from pipeline.ledger.store import Ledger
from pipeline.monitor.feed import follow_snapshots, is_fresh, latest_snapshot
from pipeline.monitor.options import MonitorOptions
from pipeline.monitor.rounds import LagMonitor
from schemas.monitor import GroupStatus, LagSnapshot

console = Console(stderr=True)

STATUS_STYLE: dict[GroupStatus, str] = {
    "OK": "green",
    "WARN": "yellow",
    "REWIND": "cyan",
    "STALL": "bold magenta",
    "STOP": "bold red",
}


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value == 0:
        return "0s"
    if value < 120:
        return f"{value:.1f}s" if value < 10 else f"{value:.0f}s"
    if value < 7200:
        return f"{value / 60:.0f}m"
    return f"{value / 3600:.1f}h"


def lag_view(snapshot: LagSnapshot, note: str = "") -> Group:
    """The groups' table, the stages' table below it, then the queues."""
    at = snapshot.at.astimezone(UTC).strftime("%H:%M:%S UTC")
    groups = Table(
        title=f"Consumer groups at {at}, judged over {snapshot.window} rounds of "
        f"{snapshot.interval_s:g}s{note}"
    )
    for column in ("group", "stage", "status", "members", "lag", "lag s", "rate/s"):
        groups.add_column(column, justify="left" if column in ("group", "stage") else "right")
    for g in snapshot.groups:
        groups.add_row(
            g.group,
            g.stage,
            Text(g.status, style=STATUS_STYLE[g.status]),
            str(g.members),
            f"{g.lag:,}",
            _seconds(g.max_lag_seconds),
            f"{g.rate_per_s:.1f}",
        )
    stages = Table(title="Stages since the monitor started")
    for column in ("stage", "events", "terminated", "review", "rejected", "dead letters", "p50",
                   "p90"):  # fmt: skip
        stages.add_column(column, justify="left" if column == "stage" else "right")
    for s in snapshot.stages:
        stages.add_row(
            s.stage,
            f"{s.processed:,}",
            f"{s.terminated:,}",
            f"{s.review:,}",
            f"{s.rejected:,}",
            Text(f"{s.dead_lettered:,}", style="bold red" if s.dead_lettered else ""),
            _seconds(s.latency_p50_s),
            _seconds(s.latency_p90_s),
        )
    q = snapshot.queues
    oldest = f", the oldest waiting {_seconds(q.review_oldest_age_s)}" if q.review_waiting else ""
    queues = Text.assemble(
        f"review queue: {q.review_waiting}{oldest}; notices overdue: ",
        (str(q.notices_overdue), "bold red" if q.notices_overdue else ""),
    )
    return Group(groups, stages, queues)


def _settings_and_bootstrap() -> tuple[Settings, str]:
    from pipeline.cli.commands import current_bootstrap

    settings = get_settings()
    return settings, current_bootstrap(settings)


def _monitor(settings: Settings, bootstrap: str, options: MonitorOptions) -> LagMonitor:
    from pipeline.cli.stages import watched_groups

    return LagMonitor(
        settings, bootstrap, watched_groups(), options, ledger=Ledger.from_settings(settings)
    )


async def _sampled(settings: Settings, bootstrap: str, options: MonitorOptions) -> LagSnapshot:
    """No monitor runs: `window` rounds here, to judge the statuses over."""
    monitor = _monitor(settings, bootstrap, options)
    async with monitor:
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task(
                f"no monitor running: sampling {options.monitor_window} rounds",
                total=options.monitor_window,
            )
            snapshot = await monitor.round()
            progress.advance(task)
            for _ in range(options.monitor_window - 1):
                await asyncio.sleep(options.monitor_interval)
                snapshot = await monitor.round()
                progress.advance(task)
    if monitor.ledger is not None:
        monitor.ledger.close()
    return snapshot


async def _sampling(
    settings: Settings, bootstrap: str, options: MonitorOptions
) -> AsyncIterator[LagSnapshot]:
    """Rounds here for ever (`--watch` without a monitor)."""
    monitor = _monitor(settings, bootstrap, options)
    async with monitor:
        while True:
            yield await monitor.round()
            await asyncio.sleep(options.monitor_interval)


def _out() -> Console:
    return Console(width=None if sys.stdout.isatty() else 140)


def lag(
    watch: Annotated[bool, typer.Option("--watch", help="Refresh at every new round.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="The snapshot as JSON.")] = False,
) -> None:
    """Each consumer group's lag and status (OK, WARN, REWIND, STALL, STOP), the stages'
    counts and dead letters, the review queue and overdue notices: from the monitor's latest
    round, or sampled here for a window of rounds when no monitor runs."""
    settings, bootstrap = _settings_and_bootstrap()
    options = MonitorOptions()
    latest = asyncio.run(latest_snapshot(bootstrap))
    running = is_fresh(latest, datetime.now(UTC))
    if not watch:
        snapshot = latest if running and latest else None
        if snapshot is None:
            snapshot = asyncio.run(_sampled(settings, bootstrap, options))
        if as_json:
            print(snapshot.model_dump_json())
        else:
            _out().print(lag_view(snapshot, "" if running else " (sampled here)"))
        return

    async def show() -> None:
        feed = follow_snapshots(bootstrap) if running else _sampling(settings, bootstrap, options)
        note = "" if running else " (sampled here)"
        if as_json:  # one line a round, for a script to follow
            async for snapshot in feed:
                print(snapshot.model_dump_json(), flush=True)
            return
        with Live(console=_out(), auto_refresh=False) as live:
            async for snapshot in feed:
                live.update(lag_view(snapshot, note), refresh=True)

    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C ends the watch
        asyncio.run(show())


def monitor() -> None:
    """Run the lag monitor: a round every HOTLINE_MONITOR_INTERVAL seconds, published to
    hotline.monitor, until SIGTERM or SIGINT."""
    from pipeline.cli.stages import watched_groups
    from pipeline.monitor.service import serve
    from pipeline.runtime.logs import configure_logging

    settings, bootstrap = _settings_and_bootstrap()
    configure_logging(settings.log_level, settings.log_format)
    serve(settings, bootstrap, watched_groups())


def register(app: typer.Typer) -> None:
    app.command("lag")(lag)
    app.command("monitor")(monitor)
