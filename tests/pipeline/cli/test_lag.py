"""`hotline lag`: the table, and the snapshot as JSON from a running monitor or sampled here."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from pipeline.cli.commands import app
from pipeline.cli.lag import lag_view
from pipeline.cli.stages import WORKERS
from pipeline.config import get_settings
from pipeline.monitor.feed import is_fresh, latest_snapshot
from schemas.monitor import LagSnapshot
from tests.fixtures.stage import ROOT, wait_until
from tests.pipeline.monitor.test_metrics import snapshot

runner = CliRunner()


def test_the_table_shows_each_group_and_the_queues() -> None:
    console = Console(record=True, width=160)
    console.print(lag_view(snapshot()))
    text = console.export_text()
    assert "hotline-url-verify" in text and "STOP" in text and "hotline-ledger" in text
    assert "review queue: 3, the oldest waiting 10m; notices overdue: 2" in text
    assert "url-verify" in text.split("Stages since the monitor started")[1]


@pytest.fixture
def on_broker(
    pipeline_bootstrap: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    env = {
        "HOTLINE_BOOTSTRAP": pipeline_bootstrap,
        "HOTLINE_DATA_DIR": str(tmp_path / "data"),
        "HOTLINE_MONITOR_INTERVAL": "0.3",
        "HOTLINE_MONITOR_WINDOW": "2",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()  # the commands read the settings once per process
    yield env
    get_settings.cache_clear()


@pytest.mark.broker
def test_lag_json_samples_itself_when_no_monitor_runs(on_broker: dict[str, str]) -> None:
    bootstrap = on_broker["HOTLINE_BOOTSTRAP"]
    # Another test's monitor may have published a moment ago: wait until that is stale.
    wait_until(
        lambda: not is_fresh(asyncio.run(latest_snapshot(bootstrap))), 60, "no fresh snapshot"
    )
    before = datetime.now(UTC)
    result = runner.invoke(app, ["lag", "--json"])
    assert result.exit_code == 0, result.output
    printed = LagSnapshot.model_validate_json(result.stdout.strip().splitlines()[-1])
    assert printed.at > before and printed.window == 2 and printed.interval_s == 0.3
    assert [g.group for g in printed.groups] == [f"hotline-{name}" for name in WORKERS]


@pytest.mark.broker
def test_lag_json_prints_the_running_monitors_snapshot(
    on_broker: dict[str, str], tmp_path: Path
) -> None:
    bootstrap = on_broker["HOTLINE_BOOTSTRAP"]
    started = datetime.now(UTC)
    with (tmp_path / "monitor.log").open("wb") as log:
        monitor = subprocess.Popen(
            [sys.executable, "-m", "pipeline.cli", "monitor"],
            cwd=ROOT,
            env={**os.environ, **on_broker, "HOTLINE_MONITOR_WINDOW": "5"},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:

        def published() -> bool:
            latest = asyncio.run(latest_snapshot(bootstrap))
            return latest is not None and latest.at > started

        wait_until(published, 120, "the monitor's first snapshot")
        result = runner.invoke(app, ["lag", "--json"])
        assert result.exit_code == 0, result.output
        printed = LagSnapshot.model_validate_json(result.stdout.strip().splitlines()[-1])
        # Not sampled here (this process would judge over 2 rounds): the monitor's round.
        assert printed.at > started and printed.window == 5
        shown = runner.invoke(app, ["lag"])
        assert shown.exit_code == 0 and "hotline-received" in shown.stdout
    finally:
        monitor.send_signal(signal.SIGTERM)
        assert monitor.wait(timeout=60) == 0
