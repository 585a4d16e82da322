"""The whole path in a real browser, with the stages running: a report sent through the public
form becomes a case, waits for an analyst, is decided in the review page, and moves on; its
reporter follows it on the status page, and the ledger holds every step, chained."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Page

from pipeline.ledger import views
from pipeline.ledger.store import Ledger, ledger_topics
from pipeline.runtime.ids import status_token_for
from pipeline.sandbox import Sandbox
from tests.fixtures.browser import Browser
from tests.fixtures.gateway import TOKEN_SECRET, GatewayFactory, gateway_settings
from tests.fixtures.stage import StageWorkerFactory, wait_until

pytestmark = pytest.mark.broker

STAGES = ("received", "url-verify", "content-check", "categorize", "jurisdiction", "dispatch")


def test_a_report_from_the_form_is_reviewed_in_the_page_and_moves_on(
    pipeline_bootstrap: str,
    sandbox: Sandbox,
    stage_worker: StageWorkerFactory,
    start_gateway: GatewayFactory,
    browser: Browser,
    tmp_path: Path,
) -> None:
    ledger_url = f"sqlite:///{tmp_path / 'ledger.db'}"
    env = {
        **sandbox.pipeline_env(tmp_path / "banks"),
        "HOTLINE_DATABASE_URL": ledger_url,
        "HOTLINE_TOKEN_SECRET": TOKEN_SECRET,
        "HOTLINE_SCREENSHOTS": "false",
    }
    for stage in (*STAGES, "ledger"):
        stage_worker(stage, **env)
    settings = gateway_settings(
        tmp_path / "gateway", bootstrap=pipeline_bootstrap, database_url=ledger_url
    )
    ledger = Ledger(ledger_url, topic_kinds=ledger_topics(settings))
    gateway = start_gateway(bootstrap=pipeline_bootstrap, settings=settings, ledger=ledger)
    reported = sandbox.url("northern-storm.nl", "/")  # terrorism: a person always decides

    async def report(page: Page) -> str:
        await page.goto(f"{gateway.url}/report?lang=en")
        await page.fill("#url", reported)
        await page.select_option("#category", "terrorism")
        await page.fill("#description", "Сайт вербует в террористическую организацию")
        await page.click("#report-form button[type=submit]")
        case_id = (await page.inner_text("#case-id")).strip()
        await page.click("#status-link")
        assert await page.locator("#status").get_attribute("data-status") == "received"
        return case_id

    case_id = browser.run(report)
    wait_until(
        lambda: case_id in {item.case_id for item in views.review_queue(ledger)},
        180,
        f"{case_id} waiting in review, in the ledger",
    )

    async def review(page: Page) -> None:
        await page.goto(f"{gateway.url}/login?lang=en")
        await page.fill("#key", gateway.keys["reviewer"])
        await page.click("form.login button[type=submit]")
        await page.goto(f"{gateway.url}/review?lang=en")
        await page.click(f'tr[data-case="{case_id}"] a')
        await page.check('input[name="verdict"][value="confirmed"]')
        await page.fill("#note", "Recruitment for a banned organisation.")
        await browser.screenshot(page, "end-to-end-review")
        await page.click("form.decision button[type=submit]")
        assert "Decision sent" in await page.inner_text("main")

    browser.run(review)

    def seen() -> str | None:
        found = views.public_status(ledger, case_id)
        return found.status if found else None

    wait_until(lambda: seen() == "forwarded", 180, f"{case_id} dispatched after the decision")

    async def status(page: Page) -> str:
        await page.goto(f"{gateway.url}/status?lang=en")
        await page.fill("#case_id", case_id)
        await page.fill("#token", status_token_for(case_id, TOKEN_SECRET))
        await page.click("form button[type=submit]")
        await browser.screenshot(page, "end-to-end-status")
        return str(await page.locator("#status").get_attribute("data-status"))

    assert browser.run(status) == "forwarded"
    history = views.timeline(ledger, case_id)
    steps = [e.stage or e.kind for e in history]
    for step in ("received", "url-verify", "content-check", "categorize", "review_decision"):
        assert step in steps
    decided = [e for e in history if e.stage == "categorize" and e.actor == "test-reviewer"]
    assert decided and decided[0].outcome == "continue"
    assert steps[-1] in ("dispatch", "notice")
    assert ledger.verify(case_id) == []
    page_text = gateway.client.get(f"/status/{case_id}?token=x").text
    assert reported not in page_text
