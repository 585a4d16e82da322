"""dispatch: each routing rule yields exactly its notices, with deadlines, bases and texts; csam
goes to the police first; a case nobody can be sent to goes to review; a replay is the same."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agents.dispatch import (
    DISPATCHED,
    SPEC,
    DispatchOptions,
    RoutingBook,
    notice_key,
    route,
)
from agents.jurisdiction import JURISDICTION_RESOLVED
from agents.jurisdiction import SPEC as JURISDICTION
from pipeline.config import Settings
from pipeline.runtime.harness import StageHarness, run_through
from pipeline.runtime.rules import RULES_DIR
from pipeline.runtime.topics import NOTICES, REVIEW
from pipeline.sandbox import Sandbox
from pipeline.sandbox.cases import categorized_envelope
from schemas import Category, ContentFacts, Envelope, RuleHit
from schemas.dispatch import Notice
from schemas.jurisdiction import Recipient

BOOK = RoutingBook.load(DispatchOptions())
SHA = "ab" * 32


def located(
    sandbox: Sandbox,
    settings: Settings,
    host: str,
    category: Category,
    *,
    rules: tuple[str, ...] = (),
    hashed: bool = True,
    case_id: str = "HL-DISPATCH-1",
) -> Envelope:
    """A case as jurisdiction hands it on, located against the sandbox."""
    case = categorized_envelope(sandbox.url(host, "/"), host, case_id, category)
    content = ContentFacts(
        checked_at=datetime.now(UTC), url=case.case.report.url, status=200,
        declared_type="text/html", mime="text/html", size=10, truncated=False,
        sha256=SHA if hashed else None, attempts=1,
    )  # fmt: skip
    decision = case.case.category
    assert decision is not None
    decision = decision.model_copy(
        update={"rules": [RuleHit(rule=r, category=category, weight=1.0) for r in rules]}
    )
    case = case.model_copy(
        update={"case": case.case.model_copy(update={"content": content, "category": decision})}
    )
    (out,) = run_through(JURISDICTION, [case.model_dump_json().encode()], settings)
    assert out.topic == JURISDICTION_RESOLVED
    return Envelope.model_validate_json(out.value)


def sent(notices: list[Notice]) -> set[tuple[str, str, str]]:
    return {(n.kind, n.recipient.kind, n.rule) for n in notices}


# Each routing rule on a sandbox case: exactly these notices (kind, recipient kind, rule).
ROUTES = [
    ("hate-forum.de", Category.hate, {
        ("report", "partner_hotline", "foreign_partner_hotline")}),
    ("street-fights.ru", Category.violence, {
        ("takedown_request", "hosting", "foreign_without_partner")}),
    ("free-nation-channel.ru", Category.extremism, {
        ("takedown_request", "hosting", "foreign_without_partner"),
        ("blocking_request", "blocking_authority", "blocking_of_banned_content")}),
    ("kazinfo-news.kz", Category.hate, {
        ("takedown_request", "site_admin", "domestic_takedown"),
        ("takedown_request", "registrar", "domestic_takedown"),
        ("takedown_request", "hosting", "domestic_takedown")}),
    ("kaz-zerkalo-bet.kz", Category.drugs, {
        ("takedown_request", "site_admin", "domestic_takedown"),
        ("takedown_request", "registrar", "domestic_takedown"),
        ("takedown_request", "hosting", "domestic_takedown"),
        ("criminal_referral", "law_enforcement", "law_enforcement_referral"),
        ("blocking_request", "blocking_authority", "blocking_of_banned_content")}),
    ("shop.hidden-market.com", Category.drugs, {
        ("forward_request", "cdn", "cdn_forward"),
        ("criminal_referral", "law_enforcement", "law_enforcement_referral"),
        ("blocking_request", "blocking_authority", "blocking_of_banned_content")}),
    ("kz-invest-club.wixsite.com", Category.hate, {
        ("takedown_request", "platform", "foreign_platform")}),
    ("tiktok.com", Category.cyberbullying, {
        ("takedown_request", "platform", "cyberbullying_on_a_represented_platform")}),
    ("northern-storm.nl", Category.terrorism, {
        ("takedown_request", "hosting", "foreign_without_partner"),
        ("blocking_request", "blocking_authority", "blocking_of_banned_content")}),
]  # fmt: skip


@pytest.mark.parametrize(("host", "category", "expected"), ROUTES)
def test_each_routing_rule_yields_exactly_its_notices(
    sandbox: Sandbox,
    sandbox_settings: Settings,
    host: str,
    category: Category,
    expected: set[tuple[str, str, str]],
) -> None:
    notices, decision = route(located(sandbox, sandbox_settings, host, category), BOOK)
    assert sent(notices) == expected
    assert len({n.idempotency_key for n in notices}) == len(notices)
    assert decision.notices == [n.idempotency_key for n in notices]
    for notice in notices:
        assert notice.basis and notice.deadline > notice.issued_at
        assert notice.case_id in notice.subject and notice.case_id in notice.body


def test_csam_goes_to_the_police_first_and_to_the_host_after_the_hold(
    sandbox: Sandbox, sandbox_settings: Settings
) -> None:
    case = located(sandbox, sandbox_settings, "best-casino.kz", Category.csam)
    notices, _ = route(case, BOOK)
    assert notices[0].recipient.kind == "law_enforcement"
    assert notices[0].kind == "criminal_referral" and notices[0].not_before is None
    takedowns = [n for n in notices if n.kind == "takedown_request"]
    assert {n.recipient.kind for n in takedowns} == {"site_admin", "registrar", "hosting"}
    hold = timedelta(hours=BOOK.rules.police_hold_hours)
    assert all(n.not_before == case.occurred_at + hold for n in takedowns)
    # Only the police and hotlines are told where the material is.
    assert notices[0].url == case.case.report.url
    assert all(n.url is None and case.case.report.url not in n.body for n in takedowns)
    assert all(SHA in n.body for n in notices)


def test_no_csam_takedown_before_the_hashes_are_preserved(
    sandbox: Sandbox, sandbox_settings: Settings
) -> None:
    case = located(sandbox, sandbox_settings, "best-casino.kz", Category.csam, hashed=False)
    notices, decision = route(case, BOOK)
    assert "takedown_request" not in {n.kind for n in notices}
    assert {n.kind for n in notices} == {"criminal_referral", "blocking_request"}
    assert any("not preserved" in gap for gap in decision.unrouted)


@pytest.mark.parametrize(
    ("host", "rules", "referral"),
    [
        ("crypto-pyramid.kz", ("financial_pyramid.referral",), "criminal_referral"),
        ("crypto-pyramid.kz", ("financial_pyramid.invest",), "administrative_referral"),
        ("kaz-zerkalo-bet.kz", ("gambling.casino",), "blocking_request"),  # banned before
    ],
)
def test_gambling_and_pyramids_go_to_the_media_authority_marked_by_what_they_show(
    sandbox: Sandbox, sandbox_settings: Settings, host: str, rules: tuple[str, ...], referral: str
) -> None:
    category = Category.gambling if "bet" in host else Category.financial_pyramid
    notices, _ = route(located(sandbox, sandbox_settings, host, category, rules=rules), BOOK)
    (media,) = [n for n in notices if n.recipient.kind == "media_authority"]
    assert media.kind == referral
    assert SHA in media.body  # the evidence goes with it
    if referral == "blocking_request":
        assert "MCI-2026-0412" in media.basis


def test_cyberbullying_on_a_represented_platform_has_a_24_hour_deadline(
    sandbox: Sandbox, sandbox_settings: Settings
) -> None:
    case = located(sandbox, sandbox_settings, "tiktok.com", Category.cyberbullying)
    notices, _ = route(case, BOOK)
    assert notices[0].recipient.source == "directory"  # the representative first
    assert all(n.deadline - n.issued_at == timedelta(hours=24) for n in notices)


def test_texts_are_in_the_recipients_language(sandbox: Sandbox, sandbox_settings: Settings) -> None:
    notices, _ = route(
        located(sandbox, sandbox_settings, "best-casino.kz", Category.gambling), BOOK
    )
    by_kind = {n.recipient.kind: n for n in notices}
    assert by_kind["hosting"].language == "kk" and "Мерзімі" in by_kind["hosting"].body
    assert by_kind["registrar"].language == "ru" and "Срок" in by_kind["registrar"].body
    foreign, _ = route(located(sandbox, sandbox_settings, "hate-forum.de", Category.hate), BOOK)
    assert foreign[0].language == "en" and "Please act by" in foreign[0].body


def test_deadlines_come_from_the_rules_file(
    sandbox: Sandbox, sandbox_settings: Settings, tmp_path: Path
) -> None:
    text = (RULES_DIR / "routing" / "rules.yaml").read_text()
    changed = tmp_path / "rules.yaml"
    changed.write_text(text.replace("partner_hotline: 72,", "partner_hotline: 5,"))
    book = RoutingBook.load(DispatchOptions(routing_rules=changed))
    (notice,), _ = route(located(sandbox, sandbox_settings, "hate-forum.de", Category.hate), book)
    assert notice.deadline - notice.issued_at == timedelta(hours=5)


def test_a_case_nobody_can_be_sent_to_goes_to_review(
    sandbox: Sandbox, sandbox_settings: Settings
) -> None:
    # The network's RDAP rate-limits: no host contact; no partner hotline in Norway for hate.
    case = located(sandbox, sandbox_settings, "svart-forum.no", Category.hate)
    (out,) = run_through(SPEC, [case.model_dump_json().encode()], sandbox_settings)
    assert out.topic == REVIEW
    review = Envelope.model_validate_json(out.value)
    assert review.reason == "unroutable" and review.case.routing is not None
    assert review.case.routing.unrouted


def test_a_replayed_case_makes_the_very_same_notices(
    sandbox: Sandbox, sandbox_settings: Settings
) -> None:
    raw = (
        located(sandbox, sandbox_settings, "kazinfo-news.kz", Category.hate)
        .model_dump_json()
        .encode()
    )
    first = run_through(SPEC, [raw], sandbox_settings)
    again = run_through(SPEC, [raw], sandbox_settings)
    assert [o.topic for o in first] == [DISPATCHED] + [NOTICES] * 3
    # The notices to the byte (deadlines come from the input's time); the case event by its id.
    assert [o.value for o in first[1:]] == [o.value for o in again[1:]]
    assert first[0].event_id == again[0].event_id


def test_the_idempotency_key_is_case_recipient_and_kind() -> None:
    one = Recipient(kind="hosting", name="H", channel="email", address="abuse@h.kz", source="t")
    assert notice_key("HL-1", one, "takedown_request") == notice_key(
        "HL-1", one, "takedown_request"
    )
    assert notice_key("HL-1", one, "takedown_request") != notice_key(
        "HL-1", one, "blocking_request"
    )
    assert notice_key("HL-1", one, "takedown_request") != notice_key(
        "HL-2", one, "takedown_request"
    )


def test_bad_input_is_dead_lettered(sandbox_settings: Settings) -> None:
    (out,) = run_through(SPEC, [b"{}"], sandbox_settings)
    assert out.topic == "hotline.dlq.dispatch"


def test_the_harness_delivers_outputs_in_order(
    sandbox: Sandbox, sandbox_settings: Settings
) -> None:
    raw = (
        located(sandbox, sandbox_settings, "hate-forum.de", Category.hate)
        .model_dump_json()
        .encode()
    )

    async def go() -> list[str]:
        async with StageHarness(SPEC, sandbox_settings) as stage:
            return [o.topic for o in await stage.feed(raw)]

    assert asyncio.run(go()) == [DISPATCHED, NOTICES]


def test_a_kz_name_behind_a_cdn_goes_to_its_registrar_and_the_cdn(
    sandbox: Sandbox, sandbox_settings: Settings
) -> None:
    case = located(sandbox, sandbox_settings, "kazinfo-news.kz", Category.hate)
    assert case.case.jurisdiction is not None
    cdn = Recipient(kind="cdn", name="Cloudflare", channel="form",
                    address="https://abuse.cloudflare.com/", source="directory")  # fmt: skip
    located_facts = case.case.jurisdiction.model_copy(
        update={
            "recipients": [r for r in case.case.jurisdiction.recipients if r.kind != "hosting"]
            + [cdn]
        }
    )
    behind = case.model_copy(
        update={"case": case.case.model_copy(update={"jurisdiction": located_facts})}
    )
    notices, _ = route(behind, BOOK)
    assert {(n.kind, n.recipient.kind) for n in notices} == {
        ("takedown_request", "site_admin"),
        ("takedown_request", "registrar"),
        ("forward_request", "cdn"),
    }
