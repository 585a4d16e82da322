"""The pages in a real browser (Debian's Chromium through Playwright): a reporter sends the form
and follows their status; a reviewer logs in, opens a case from the queue and decides it."""

from __future__ import annotations

import io
import uuid

import pytest
from PIL import Image
from playwright.async_api import Page

from pipeline.content.evidence import EvidenceStore
from pipeline.runtime.ids import status_token_for
from pipeline.runtime.kafka_io import read_topic
from pipeline.runtime.topics import INTAKE, REVIEW_DECISIONS
from schemas import Category, ReviewDecision
from tests.fixtures.browser import Browser
from tests.fixtures.gateway import TOKEN_SECRET, RunningGateway, record_review_case, review_case

STATUS_WORDS = {"kk": "қабылданды", "en": "received"}


@pytest.mark.parametrize("lang", ["kk", "en"])
def test_an_anonymous_report_through_the_form(
    gateway: RunningGateway, browser: Browser, lang: str
) -> None:
    async def scenario(page: Page) -> tuple[str, str]:
        # Kazakh for a browser that asks for it; English by the page's own switcher.
        await page.goto(f"{gateway.url}/")
        assert await page.get_attribute("html", "lang") == "kk"
        if lang == "en":
            await page.click('nav.languages a[hreflang="en"]')
            assert await page.get_attribute("html", "lang") == "en"
        await page.fill("#url", "http://best-casino.kz/bonus")
        await page.select_option("#category", "gambling")
        await page.fill("#description", "Онлайн казино без лицензии")
        await browser.screenshot(page, f"report-form-{lang}")
        await page.click("#report-form button[type=submit]")
        case_id = (await page.inner_text("#case-id")).strip()
        token = (await page.inner_text("#status-token")).strip()
        await page.click("#status-link")
        status = page.locator("#status")
        assert await status.get_attribute("data-status") == "received"
        assert (await status.inner_text()).strip() == STATUS_WORDS[lang]
        await browser.screenshot(page, f"status-{lang}")
        return case_id, token

    case_id, token = browser.run(scenario, locale="kk-KZ")
    assert token == status_token_for(case_id, TOKEN_SECRET)
    assert gateway.published is not None
    [sent] = gateway.published.on(INTAKE)
    report = sent.json()
    assert (report["channel"], report["language"], report["category"]) == (
        "web_form",
        lang,
        "gambling",
    )
    assert "contact" not in report  # anonymous


@pytest.mark.broker
def test_a_reviewer_decides_a_case_in_the_page(
    broker_gateway: RunningGateway, browser: Browser
) -> None:
    gateway = broker_gateway
    picture = io.BytesIO()
    Image.new("RGB", (320, 200), (30, 90, 160)).save(picture, format="PNG")
    shot = EvidenceStore(gateway.settings.evidence_root()).put(picture.getvalue(), "image/png")
    case_id = f"HL-BRWS-{uuid.uuid4().hex[:4].upper()}-0001"  # new on a long-lived broker too
    record_review_case(gateway, review_case(case_id, screenshot=shot))
    bootstrap = gateway.settings.bootstrap
    assert bootstrap is not None

    async def scenario(page: Page) -> list[ReviewDecision]:
        await page.goto(f"{gateway.url}/review?lang=en")
        assert "Log in to open this page." in await page.inner_text("main")
        await page.click("main a")  # the 401 page's link to the login
        await page.fill("#key", gateway.keys["reviewer"])
        await page.click("form.login button[type=submit]")
        await page.wait_for_url("**/review**")
        await page.click(f'tr[data-case="{case_id}"] a')
        image = page.locator("#screenshot")
        width = await image.evaluate("img => img.complete ? img.naturalWidth : 0")
        assert width == 320
        assert "call_to_join" in await page.inner_text("#finding")
        await page.check('input[name="verdict"][value="corrected"]')
        await page.select_option('select[name="category"]', "extremism")
        await page.fill("#note", "Propaganda of a banned organisation, not terrorism.")
        await browser.screenshot(page, "review-case")
        await page.click("form.decision button[type=submit]")
        assert "Decision sent" in await page.inner_text("main")
        records = await read_topic(bootstrap, REVIEW_DECISIONS)
        return [
            ReviewDecision.model_validate_json(r.value)
            for r in records
            if r.value and r.key == case_id.encode()
        ]

    [decision] = browser.run(scenario)
    assert (decision.verdict, decision.category) == ("corrected", Category.extremism)
    assert decision.reviewer == "test-reviewer"
    assert decision.note.startswith("Propaganda")
