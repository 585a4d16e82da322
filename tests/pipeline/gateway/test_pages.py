"""The HTML pages over real HTTP, without a browser: languages, the report form and its token,
the status page, the review pages and their evidence, appeals, the login, the registry. And the
API documentation in Chromium: Swagger UI runs from our origin alone, under its policy."""

from __future__ import annotations

import html
import io
import re

import pytest
from PIL import Image
from playwright.async_api import ConsoleMessage, Page, Route

from pipeline.content.evidence import EvidenceStore
from pipeline.gateway.options import GatewayOptions
from pipeline.runtime.ids import status_token_for
from pipeline.runtime.topics import APPEALS, INTAKE, REVIEW_DECISIONS
from schemas import Category, ReviewDecision, StoredObject
from schemas.ledger import Appeal, AppealDecision
from tests.fixtures.browser import Browser
from tests.fixtures.gateway import (
    TOKEN_SECRET,
    Answer,
    GatewayFactory,
    RunningGateway,
    blocking_notice,
    form_fields,
    record_registry_entry,
    record_review_case,
    review_case,
)


def _report_form(gateway: RunningGateway, lang: str = "kk", **fields: str) -> Answer:
    page = gateway.client.get(f"/report?lang={lang}")
    hidden = form_fields(page.text)
    return gateway.client.post("/report", form={**hidden, **fields})


def _screenshot(gateway: RunningGateway) -> tuple[StoredObject, bytes]:
    picture = io.BytesIO()
    Image.new("RGB", (64, 40), (200, 30, 30)).save(picture, format="PNG")
    data = picture.getvalue()
    return EvidenceStore(gateway.settings.evidence_root()).put(data, "image/png"), data


# ---------------------------------------------------------------- languages


@pytest.mark.parametrize(
    ("query", "accept", "lang", "title"),
    [
        ("", None, "kk", "Заңсыз контент туралы хабарлаңыз"),
        ("?lang=ru", "en", "ru", "Сообщите о противоправном контенте"),
        ("", "en-US,en;q=0.9", "en", "Report illegal online content"),
    ],
)
def test_the_form_speaks_the_readers_language(
    gateway: RunningGateway, query: str, accept: str | None, lang: str, title: str
) -> None:
    headers = {"Accept-Language": accept} if accept else {}
    page = gateway.client.get(f"/{query}", headers=headers)
    assert page.status == 200
    assert f'<html lang="{lang}">' in page.text
    assert f"<h1>{title}</h1>" in page.text
    # A switcher to each language, and every category in this one.
    for code in ("kk", "ru", "en"):
        assert f'hreflang="{code}"' in page.text
    assert page.text.count("<option value=") == len(Category) + 1


def test_the_form_says_anonymous_reports_are_normal(gateway: RunningGateway) -> None:
    page = gateway.client.get("/report?lang=en")
    assert "anonymous reports are handled just the same" in page.text
    assert 'name="name"' in page.text and 'name="email"' in page.text
    assert 'name="name" type="text" maxlength="200" autocomplete="name" value=""' in page.text


# ---------------------------------------------------------------- the report form


def test_an_anonymous_report_gets_its_case_and_token(gateway: RunningGateway) -> None:
    answer = _report_form(
        gateway, url="http://best-casino.kz/", category="gambling", description="Казино"
    )
    assert answer.status == 200, answer.text
    case_id = re.search(r'id="case-id">([^<]+)<', answer.text).group(1)  # type: ignore[union-attr]
    token = re.search(r'id="status-token">([^<]+)<', answer.text).group(1)  # type: ignore[union-attr]
    assert token == status_token_for(case_id, TOKEN_SECRET)
    assert gateway.published is not None
    [sent] = gateway.published.on(INTAKE)
    report = sent.json()
    assert sent.key == b"best-casino.kz"
    assert report["channel"] == "web_form" and report["language"] == "kk"
    assert "contact" not in report
    assert report["submission_id"].startswith("web-")
    link = re.search(r'id="status-link" href="([^"]+)"', answer.text).group(1)  # type: ignore[union-attr]
    status = gateway.client.get(html.unescape(link))
    assert status.status == 200
    assert 'data-status="received"' in status.text and "қабылданды" in status.text


def test_a_name_and_email_go_into_the_contact(gateway: RunningGateway) -> None:
    answer = _report_form(
        gateway,
        lang="ru",
        url="http://shop.kz/",
        category="drugs",
        name="Айгерим",
        email="aigerim@mail.kz",
    )
    assert answer.status == 200
    assert gateway.published is not None
    [sent] = gateway.published.on(INTAKE)
    assert sent.json()["contact"] == {"name": "Айгерим", "email": "aigerim@mail.kz"}
    assert "aigerim@mail.kz" not in answer.text  # the receipt shows the case, not the person


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"url": "javascript:alert(1)", "category": "hate"}, "Тек http:// немесе https://"),
        ({"url": "", "category": "hate"}, "Мекенжайды көрсетіңіз."),
        ({"url": "http://a.kz/", "category": ""}, "Тізімнен санатты таңдаңыз."),
        ({"url": "http://a.kz/", "category": "hate", "email": "no at"}, "Электрондық пошта"),
    ],
)
def test_a_refused_report_shows_the_form_again_with_why(
    gateway: RunningGateway, fields: dict[str, str], words: str
) -> None:
    answer = _report_form(gateway, description="<script>alert('x')</script>", **fields)
    assert answer.status == 422
    assert words in answer.text
    assert "<script>alert" not in answer.text  # what the reporter typed comes back escaped
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in answer.text
    assert gateway.published is not None and gateway.published.records == []


def test_a_post_without_the_forms_token_is_refused(gateway: RunningGateway) -> None:
    fields = {"url": "http://a.kz/", "category": "hate", "lang": "en"}
    assert gateway.client.post("/report", form=fields).status == 400
    forged = {**fields, "nonce": "1.00", "csrf": "0" * 64}
    assert gateway.client.post("/report", form=forged).status == 400
    login = form_fields(gateway.client.get("/login").text)  # a token of another form
    stolen = {**fields, "nonce": login["nonce"], "csrf": login["csrf"]}
    answer = gateway.client.post("/report", form=stolen)
    assert answer.status == 400 and "The form has expired" in answer.text
    assert gateway.published is not None and gateway.published.records == []


def test_the_form_is_limited_per_address(start_gateway: GatewayFactory) -> None:
    gateway = start_gateway(options=GatewayOptions(gateway_form_rate_per_minute=2))
    statuses = [_report_form(gateway, url="http://a.kz/", category="hate").status for _ in range(3)]
    assert statuses == [200, 200, 429]


# ---------------------------------------------------------------- status pages


def test_the_status_pages(gateway: RunningGateway) -> None:
    case_id = "HL-AAAA-BBBB-CCCC"
    token = status_token_for(case_id, TOKEN_SECRET)
    lookup = gateway.client.get(f"/status?case_id={case_id.lower()}&token={token}&lang=en")
    assert lookup.status == 303
    assert lookup.headers["location"] == f"/status/{case_id}?token={token}&lang=en"
    page = gateway.client.get(lookup.headers["location"])
    assert page.status == 200 and ">received<" in page.text
    wrong = gateway.client.get(f"/status/{case_id}?token={'0' * len(token)}&lang=en")
    unknown = gateway.client.get(f"/status/HL-ZZZZ-ZZZZ-ZZZZ?token={token}&lang=en")
    assert wrong.status == unknown.status == 404
    assert "No report matches this number and code." in wrong.text
    assert gateway.client.get("/status?lang=ru").status == 200


# ---------------------------------------------------------------- review pages


def test_a_reviewer_sees_the_case_and_its_evidence(gateway: RunningGateway) -> None:
    stored, png = _screenshot(gateway)
    page_bytes = b"<html><script>steal()</script>join us</html>"
    fetched = EvidenceStore(gateway.settings.evidence_root()).put(page_bytes, "text/html")
    record_review_case(
        gateway,
        review_case(
            "HL-TEST-0100",
            text="Join us <script>alert(1)</script> брат",
            screenshot=stored,
            evidence=fetched,
        ),
    )
    cookie = gateway.login_cookie("reviewer")
    queue = gateway.client.get("/review?lang=en", headers=cookie)
    assert 'data-case="HL-TEST-0100"' in queue.text
    page = gateway.client.get("/review/HL-TEST-0100?lang=en", headers=cookie)
    assert page.status == 200
    assert "Join us &lt;script&gt;alert(1)&lt;/script&gt; брат" in page.text
    assert "terrorism.call_to_join" in page.text  # the rule that fired
    assert "ab" * 32 in page.text  # the content's hash
    assert 'src="/review/HL-TEST-0100/screenshot"' in page.text
    assert 'name="verdict" value="corrected"' in page.text
    shot = gateway.client.get("/review/HL-TEST-0100/screenshot", headers=cookie)
    assert (shot.status, shot.headers["content-type"], shot.body) == (200, "image/png", png)
    download = gateway.client.get("/review/HL-TEST-0100/evidence", headers=cookie)
    assert download.body == page_bytes
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["content-disposition"].startswith("attachment")
    assert "sandbox" in download.headers["content-security-policy"]


def test_a_withheld_case_shows_hashes_only(gateway: RunningGateway) -> None:
    stored, _ = _screenshot(gateway)
    case = review_case("HL-TEST-0101", reported=Category.csam, withheld="csam hash-bank match")
    # Even an envelope that names a screenshot for withheld content gets none served.
    assert case.case.content is not None
    forged = case.model_copy(
        update={
            "case": case.case.model_copy(
                update={"content": case.case.content.model_copy(update={"screenshot": stored})}
            )
        }
    )
    record_review_case(gateway, forged)
    cookie = gateway.login_cookie("reviewer")
    page = gateway.client.get("/review/HL-TEST-0101?lang=en", headers=cookie)
    assert "Hashes only" in page.text and 'id="hashes-only"' in page.text
    assert "ab" * 32 in page.text and "bank-csam" in page.text
    assert "/screenshot" not in page.text and 'id="visible-text"' not in page.text
    assert gateway.client.get("/review/HL-TEST-0101/screenshot", headers=cookie).status == 404


def test_only_the_cases_own_screenshot_is_served(gateway: RunningGateway) -> None:
    _screenshot(gateway)  # the store holds one; the case records none
    record_review_case(gateway, review_case("HL-TEST-0102"))
    cookie = gateway.login_cookie("reviewer")
    assert gateway.client.get("/review/HL-TEST-0102/screenshot", headers=cookie).status == 404
    assert gateway.client.get("/review/HL-NONE/screenshot", headers=cookie).status == 404
    # A case naming bytes the store does not hold, or a hash that is no hash.
    for sha256 in ("ef" * 32, "../../etc/passwd"):
        named = StoredObject(sha256=sha256, size=1, mime="image/png")
        record_review_case(gateway, review_case(f"HL-TEST-01{len(sha256)}", screenshot=named))
        answer = gateway.client.get(f"/review/HL-TEST-01{len(sha256)}/screenshot", headers=cookie)
        assert answer.status == 404


def test_a_decision_from_the_page(gateway: RunningGateway) -> None:
    record_review_case(gateway, review_case("HL-TEST-0110"))
    cookie = gateway.login_cookie("reviewer")
    page = gateway.client.get("/review/HL-TEST-0110?lang=en", headers=cookie)
    hidden = form_fields(page.text)
    # The category list is sent whatever the verdict; it counts with `corrected` only.
    wrong = {**hidden, "verdict": "corrected", "category": "", "note": ""}
    refused = gateway.client.post("/review/HL-TEST-0110/decision", form=wrong, headers=cookie)
    assert refused.status == 422
    assert gateway.published is not None and gateway.published.on(REVIEW_DECISIONS) == []
    form = {**hidden, "verdict": "confirmed", "category": "drugs", "note": "propaganda"}
    answer = gateway.client.post("/review/HL-TEST-0110/decision", form=form, headers=cookie)
    assert answer.status == 202, answer.text
    [sent] = gateway.published.on(REVIEW_DECISIONS)
    decision = ReviewDecision.model_validate_json(sent.value)
    assert (decision.verdict, decision.category, decision.note) == ("confirmed", None, "propaganda")
    assert decision.reviewer == "test-reviewer"
    assert decision.decision_id in answer.text
    no_token = {"verdict": "confirmed", "note": ""}
    forged = gateway.client.post("/review/HL-TEST-0110/decision", form=no_token, headers=cookie)
    assert forged.status == 400


# ---------------------------------------------------------------- the registry and appeals


def test_the_registry_page(gateway: RunningGateway) -> None:
    record_registry_entry(gateway, blocking_notice("HL-REG-0001", host="best-casino.kz"))
    record_registry_entry(
        gateway, blocking_notice("HL-REG-0002", category=Category.csam, host="abuse.example")
    )
    for lang, words in (("en", "only counted: 1"), ("ru", "только учитываются: 1")):
        page = gateway.client.get(f"/registry?lang={lang}")
        assert page.status == 200
        assert words in page.text
        assert "best-casino.kz" in page.text and "abuse.example" not in page.text
        assert "Law of the Republic of Kazakhstan on Mass Media" in page.text
        assert "Ministry of Culture and Information" in page.text
    filtered = gateway.client.get("/registry?category=drugs&q=&status=&lang=en")
    assert "best-casino.kz" not in filtered.text and "No entries." in filtered.text
    lenient = gateway.client.get("/registry?category=nonsense&offset=x&limit=9999")
    assert lenient.status == 200 and "best-casino.kz" in lenient.text


def test_an_appeal_through_the_page_and_its_decision(gateway: RunningGateway) -> None:
    entry_id = record_registry_entry(gateway, blocking_notice("HL-REG-0005"))
    form_page = gateway.client.get(f"/registry/{entry_id}/appeal?lang=en")
    assert form_page.status == 200 and "best-casino.kz" in form_page.text
    hidden = form_fields(form_page.text)
    empty = gateway.client.post(f"/registry/{entry_id}/appeal", form={**hidden, "grounds": "  "})
    assert empty.status == 422
    sent = gateway.client.post(
        f"/registry/{entry_id}/appeal", form={**hidden, "grounds": "A licensed bookmaker."}
    )
    assert sent.status == 202 and "Your appeal was received" in sent.text
    assert gateway.published is not None
    [published] = gateway.published.on(APPEALS)
    appeal = Appeal.model_validate_json(published.value)
    assert appeal.grounds == "A licensed bookmaker."
    # The ledger records it; a reviewer decides it.
    gateway.record(APPEALS, appeal)
    cookie = gateway.login_cookie("reviewer")
    queue = gateway.client.get("/review?lang=en", headers=cookie)
    assert f'data-appeal="{appeal.appeal_id}"' in queue.text
    decide = gateway.client.get(f"/review/appeals/{appeal.appeal_id}?lang=en", headers=cookie)
    assert "A licensed bookmaker." in decide.text
    form = {**form_fields(decide.text), "outcome": "lifted", "reason": "Licence no. 12 checked."}
    answer = gateway.client.post(f"/review/appeals/{appeal.appeal_id}", form=form, headers=cookie)
    assert answer.status == 202, answer.text
    decided = AppealDecision.model_validate_json(gateway.published.on(APPEALS)[-1].value)
    assert (decided.outcome, decided.reviewer, decided.case_id) == (
        "lifted",
        "test-reviewer",
        "HL-REG-0005",
    )
    assert gateway.client.get("/registry/nope/appeal").status == 404


# ---------------------------------------------------------------- login and NTD


def test_login_sets_a_strict_http_only_cookie(gateway: RunningGateway) -> None:
    page = gateway.client.get("/login?next=/review/HL-X&lang=en")
    hidden = form_fields(page.text)
    assert hidden["next"] == "/review/HL-X"
    wrong = gateway.client.post("/login", form={**hidden, "key": "hk_wrong"})
    assert wrong.status == 401 and "The key is not recognised." in wrong.text
    right = gateway.client.post("/login", form={**hidden, "key": gateway.keys["reviewer"]})
    assert right.status == 303 and right.headers["location"] == "/review/HL-X"
    cookie = right.headers["set-cookie"]
    assert cookie.startswith(f"hotline_key={gateway.keys['reviewer']};")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    # Never a redirect to another site.
    for elsewhere in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        hidden = form_fields(gateway.client.get("/login").text)
        answer = gateway.client.post(
            "/login", form={**hidden, "next": elsewhere, "key": gateway.keys["operator"]}
        )
        assert answer.headers["location"].startswith("/ntd"), elsewhere
    out = gateway.client.post("/logout")
    assert out.status == 303 and 'hotline_key=""' in out.headers["set-cookie"]


def test_the_ntd_page(gateway: RunningGateway) -> None:
    page = gateway.client.get(
        "/ntd?lang=en&since=2026-01-01", headers=gateway.login_cookie("operator")
    )
    assert page.status == 200
    assert "Notice-and-takedown times" in page.text and 'value="2026-01-01"' in page.text


# ---------------------------------------------------------------- the API documentation


def test_the_api_documentation_runs_offline_under_its_policy(
    gateway: RunningGateway, browser: Browser
) -> None:
    """Every request to another origin is cut (as without the internet, or with a CDN down):
    Swagger UI still renders the API and calls it, and the browser reports no violation of
    /docs's policy, nor any other error."""
    elsewhere: list[str] = []
    errors: list[str] = []

    async def only_ours(route: Route) -> None:
        if route.request.url.startswith(f"{gateway.url}/"):
            await route.continue_()
        else:
            elsewhere.append(route.request.url)
            await route.abort()

    def on_console(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            errors.append(message.text)  # a CSP violation is one ("Refused to …")

    async def scenario(page: Page) -> str:
        await page.route("**/*", only_ours)
        page.on("console", on_console)
        page.on("pageerror", lambda error: errors.append(str(error)))
        await page.goto(f"{gateway.url}/docs")
        await page.locator(".opblock").first.wait_for()
        assert (await page.locator(".info .title").inner_text()).startswith("Hotline gateway")
        health = page.locator(".opblock", has_text="/healthz")
        await health.locator(".opblock-summary").click()
        await health.get_by_role("button", name="Try it out").click()
        await health.get_by_role("button", name="Execute").click()
        status = health.locator(".live-responses-table tr.response .response-col_status").first
        await status.wait_for()
        await browser.screenshot(page, "api-docs")
        return (await status.inner_text()).strip()

    assert browser.run(scenario) == "200"
    assert elsewhere == []
    assert errors == []
