"""The dashboard in Chromium on a running pipeline: a stage whose worker is stopped while
reports keep coming shows STOP, and OK again once its worker is back."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from playwright.async_api import Page

from pipeline.config import Settings
from pipeline.runtime.kafka_io import kafka_producer
from pipeline.runtime.topics import INTAKE
from tests.builders import encode, report
from tests.fixtures.browser import Browser
from tests.fixtures.gateway import GatewayFactory, gateway_settings
from tests.fixtures.stage import ROOT, StageWorkerFactory

pytestmark = pytest.mark.broker

RECEIVED = '.stage[data-stage="received"]'


async def send_reports(bootstrap: str, count: int) -> None:
    run = uuid.uuid4().hex[:8]
    async with kafka_producer(Settings(), bootstrap) as producer:
        for n in range(count):
            value = encode(
                report(url=f"https://dash-{run}.kz/{n}", submission_id=f"dash-{run}-{n}")
            )
            await producer.send(INTAKE, value, key=f"dash-{run}.kz".encode())
        await producer.flush()


def test_a_stopped_stage_shows_stop_then_recovers(
    pipeline_bootstrap: str,
    stage_worker: StageWorkerFactory,
    start_gateway: GatewayFactory,
    browser: Browser,
    tmp_path: Path,
) -> None:
    env = {
        **os.environ,
        "HOTLINE_BOOTSTRAP": pipeline_bootstrap,
        "HOTLINE_DATA_DIR": str(tmp_path / "monitor"),
        "HOTLINE_MONITOR_INTERVAL": "1",
        "HOTLINE_MONITOR_WINDOW": "3",
        "HOTLINE_LOG_LEVEL": "warning",
    }
    with (tmp_path / "monitor.log").open("wb") as log:
        monitor = subprocess.Popen(
            [sys.executable, "-m", "pipeline.cli", "monitor"], cwd=ROOT, env=env, stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        worker = stage_worker("received")
        settings = gateway_settings(tmp_path / "gateway", bootstrap=pipeline_bootstrap)
        gateway = start_gateway(bootstrap=pipeline_bootstrap, settings=settings)

        async def scenario(page: Page) -> None:
            await page.goto(f"{gateway.url}/login?lang=en&next=/dashboard")
            await page.fill("#key", gateway.keys["operator"])
            await page.click("form.login button[type=submit]")
            await page.goto(f"{gateway.url}/dashboard?lang=en")
            # The page refreshes itself: wait for what the monitor sees, round after round.
            await page.wait_for_selector(f'{RECEIVED}[data-status="OK"]', timeout=120_000)
            worker.stop()
            await send_reports(pipeline_bootstrap, 30)
            await page.wait_for_selector(f'{RECEIVED}[data-status="STOP"]', timeout=120_000)
            assert int(await page.inner_text(f'{RECEIVED} [data-field="lag"]')) >= 30
            assert await page.inner_text(f'{RECEIVED} [data-field="members"]') == "0"
            await page.wait_for_selector("#chart-lag .uplot", timeout=30_000)
            await browser.screenshot(page, "dashboard-stop")
            stage_worker("received")
            await page.wait_for_selector(f'{RECEIVED}[data-status="OK"]', timeout=180_000)
            assert await page.inner_text(f'{RECEIVED} [data-field="lag"]') == "0"
            await browser.screenshot(page, "dashboard-recovered")

        browser.run(scenario)
    finally:
        monitor.terminate()
        assert monitor.wait(timeout=60) == 0
