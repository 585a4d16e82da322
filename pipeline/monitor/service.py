"""The monitor process (`hotline monitor`): a round every `HOTLINE_MONITOR_INTERVAL` seconds,
published to `hotline.monitor` keyed `lag`, until it is told to stop.

It is no consumer group of its own (its consumers are group-less), so it never shows in its
own figures and any number of them may run. Statuses are logged when they change.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Sequence

import structlog

from pipeline.config import Settings
from pipeline.ledger.store import Ledger
from pipeline.monitor.groups import Watched
from pipeline.monitor.options import MonitorOptions
from pipeline.monitor.rounds import LagMonitor
from pipeline.runtime.kafka_io import kafka_producer
from pipeline.runtime.topics import MONITOR
from schemas.monitor import GroupStatus, LagSnapshot

log = structlog.get_logger("monitor")

SNAPSHOT_KEY = b"lag"


class StatusLog:
    """Logs each group's status when it changes (and every group's at the first round)."""

    def __init__(self) -> None:
        self.last: dict[str, GroupStatus] = {}

    def changes(self, snapshot: LagSnapshot) -> list[dict[str, object]]:
        changed: list[dict[str, object]] = []
        for group in snapshot.groups:
            before = self.last.get(group.group)
            if before != group.status:
                changed.append(
                    {
                        "group": group.group,
                        "status": group.status,
                        "was": before,
                        "lag": group.lag,
                        "lag_seconds": round(group.max_lag_seconds, 1),
                        "members": group.members,
                    }
                )
                self.last[group.group] = group.status
        return changed

    def log(self, snapshot: LagSnapshot) -> None:
        for change in self.changes(snapshot):
            level = log.info if change["status"] == "OK" else log.warning
            level("group status", **change)


async def run_monitor(
    settings: Settings,
    bootstrap: str,
    watched: Sequence[Watched],
    options: MonitorOptions,
    stopping: asyncio.Event,
) -> int:
    """Rounds until `stopping` is set; the number of snapshots published."""
    ledger = Ledger.from_settings(settings)
    statuses = StatusLog()
    published = 0
    try:
        async with (
            LagMonitor(settings, bootstrap, watched, options, ledger=ledger) as monitor,
            kafka_producer(settings, bootstrap) as producer,
        ):
            log.info(
                "monitor started",
                groups=[w.group for w in watched],
                interval=options.monitor_interval,
                window=options.monitor_window,
            )
            loop = asyncio.get_running_loop()
            while not stopping.is_set():
                started = loop.time()
                try:
                    snapshot = await monitor.round()
                    await producer.send_and_wait(
                        MONITOR, snapshot.model_dump_json().encode(), key=SNAPSHOT_KEY
                    )
                    published += 1
                    statuses.log(snapshot)
                except Exception as error:  # the broker away for a round: the next one tries
                    log.warning("monitor round failed", error=repr(error))
                wait = options.monitor_interval - (loop.time() - started)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), max(wait, 0.0))
    finally:
        ledger.close()
    log.info("monitor stopped", snapshots=published)
    return published


def serve(settings: Settings, bootstrap: str, watched: Sequence[Watched]) -> None:
    """Run the monitor until SIGTERM or SIGINT."""

    async def main() -> None:
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for number in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(number, stopping.set)
        await run_monitor(settings, bootstrap, watched, MonitorOptions(), stopping)

    asyncio.run(main())
