"""jurisdiction: every sandbox site ends with its jurisdiction and recipients; lookups that fail
leave parts unknown and the case goes on; a thousand reports on one host cost one lookup."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import pytest

from agents.jurisdiction import (
    JURISDICTION_RESOLVED,
    SPEC,
    JurisdictionOptions,
    decide,
    load_jurisdiction_rules,
)
from pipeline.config import Settings
from pipeline.directories import Directories, load_directories
from pipeline.lookups.locate import Located
from pipeline.lookups.names import domain_facts
from pipeline.runtime.harness import StageHarness, run_through
from pipeline.runtime.rules import RULES_DIR
from pipeline.sandbox import Sandbox
from pipeline.sandbox.cases import categorized_envelope
from schemas import Category, DeadLetter, Envelope
from schemas.directory import Contact, Platform, Platforms
from schemas.jurisdiction import DnsFacts, JurisdictionFacts, NetworkFacts, RegistrationFacts

RULES = load_jurisdiction_rules(RULES_DIR / "jurisdiction" / "ruleset.yaml")


def case_for(sandbox: Sandbox, host: str, category: Category, n: int = 0) -> bytes:
    envelope = categorized_envelope(sandbox.url(host, "/"), host, f"HL-J-{n:04d}", category)
    return envelope.model_dump_json().encode()


def resolved(outputs: Sequence[object]) -> list[JurisdictionFacts]:
    found = []
    for out in outputs:
        assert out.topic == JURISDICTION_RESOLVED, out.value[:300]  # type: ignore[attr-defined]
        facts = Envelope.model_validate_json(out.value).case.jurisdiction  # type: ignore[attr-defined]
        assert facts is not None
        found.append(facts)
    return found


def located(
    host: str, category: Category, sandbox: Sandbox, settings: Settings
) -> JurisdictionFacts:
    (facts,) = resolved(run_through(SPEC, [case_for(sandbox, host, category)], settings))
    return facts


# Each sandbox site as an analyst would route it: (host, category) -> jurisdiction, country,
# deciding rule, and the kinds of recipient found, closest to the content first.
SITES = [
    ("kazinfo-news.kz", Category.hate, "domestic", "KZ", "home_tld",
     ["site_admin", "registrar", "hosting"]),
    ("best-casino.kz", Category.gambling, "domestic", "KZ", "home_tld",
     ["site_admin", "registrar", "hosting"]),
    # A .kz name hosted in Germany is still handled at home, through its registrar.
    ("kaz-zerkalo-bet.kz", Category.gambling, "domestic", "KZ", "home_tld",
     ["site_admin", "registrar", "hosting"]),
    ("xn--80aaqw4fuxvb.xn--80ao21a", Category.suicide, "domestic", "KZ", "home_tld",
     ["site_admin", "registrar", "hosting"]),
    ("hate-forum.de", Category.hate, "foreign", "DE", "hosted_abroad",
     ["site_admin", "registrar", "hosting", "partner_hotline"]),
    ("shop-drugs.ru", Category.drugs, "foreign", "RU", "hosted_abroad",
     ["site_admin", "registrar", "hosting"]),  # no INHOPE member in Russia
    ("restricted-media.nl", Category.csam, "foreign", "NL", "hosted_abroad",
     ["site_admin", "registrar", "hosting", "partner_hotline"]),
    # Behind a CDN: the origin is unknown, the CDN's abuse desk is asked to forward.
    ("shop.hidden-market.com", Category.drugs, "unknown", None, "cdn_fronted",
     ["site_admin", "registrar", "cdn"]),
    ("127.1.4.20", Category.hate, "foreign", "DE", "hosted_abroad",
     ["hosting", "partner_hotline"]),
    # A user's site on a platform: the platform, not the registrar of wixsite.com.
    ("kz-invest-club.wixsite.com", Category.financial_pyramid, "foreign", "US",
     "platform_user_site", ["platform"]),
    # A platform with a representative at home: the representative first, then the platform.
    ("tiktok.com", Category.cyberbullying, "domestic", "KZ",
     "platform_with_domestic_representative", ["platform", "platform"]),
]  # fmt: skip


@pytest.mark.parametrize(("host", "category", "jurisdiction", "country", "rule", "kinds"), SITES)
def test_each_sandbox_site_ends_with_its_jurisdiction_and_recipients(
    sandbox: Sandbox,
    sandbox_settings: Settings,
    host: str,
    category: Category,
    jurisdiction: str,
    country: str | None,
    rule: str,
    kinds: list[str],
) -> None:
    facts = located(host, category, sandbox, sandbox_settings)
    assert (facts.jurisdiction, facts.country, facts.rule) == (jurisdiction, country, rule)
    assert [r.kind for r in facts.recipients] == kinds
    assert facts.ruleset_version.startswith(RULES.version)


def test_a_domestic_site_names_its_registrar_and_host_from_the_directory(
    sandbox: Sandbox, sandbox_settings: Settings
) -> None:
    facts = located("best-casino.kz", Category.gambling, sandbox, sandbox_settings)
    by_kind = {r.kind: r for r in facts.recipients}
    assert (
        by_kind["registrar"].name == "KZ Names LLP" and by_kind["registrar"].source == "directory"
    )
    assert by_kind["hosting"].address == "noc-abuse@altyn-cloud.kz.test"
    assert by_kind["site_admin"].address == "hostmaster@best-casino.kz"
    # The facts behind it, each with its source.
    assert facts.registration is not None and facts.registration.registrar == "KZNAMES.KZ"
    assert facts.registration.registrant_country == "KZ"
    assert facts.registration.created == "2019-05-21"
    assert facts.network is not None and (facts.network.asn, facts.network.country) == (
        210002,
        "KZ",
    )
    assert facts.dns is not None and facts.dns.ns == ["ns1.altyn-cloud.kz", "ns2.altyn-cloud.kz"]
    assert {lookup.kind for lookup in facts.lookups} == {"dns", "asn", "rdap_ip", "whois_kz"}
    assert {e.fact: e.points_to for e in facts.evidence} == {
        "tld": "home",
        "ip_country": "home",
        "registrant_country": "home",
        "hosting_company": "home",
    }
    assert facts.confidence == 0.99


def test_a_foreign_site_gets_its_abuse_contacts_from_rdap(
    sandbox: Sandbox, sandbox_settings: Settings
) -> None:
    facts = located("hate-forum.de", Category.hate, sandbox, sandbox_settings)
    by_kind = {r.kind: r for r in facts.recipients}
    assert by_kind["hosting"].address == "abuse@rhein-server.de"
    assert by_kind["hosting"].source == "rdap"
    assert by_kind["registrar"].address == "abuse@domainwerk.de"
    assert by_kind["partner_hotline"].country == "DE"
    assert facts.network is not None and facts.network.cidr == "127.1.4.0/24"
    assert facts.fronting is None


def test_the_cdn_is_told_by_its_cname_and_the_origin_stays_unknown(
    sandbox: Sandbox, sandbox_settings: Settings
) -> None:
    facts = located("shop.hidden-market.com", Category.drugs, sandbox, sandbox_settings)
    assert facts.fronting is not None
    assert (facts.fronting.cdn, facts.fronting.matched_by) == ("Cloudflare", "cname")
    assert [u.part for u in facts.unknowns] == ["hosting_country"]
    assert "forward" in facts.why


@pytest.mark.parametrize(
    ("host", "part", "why"),
    [
        ("svart-forum.no", "network", "rate limited"),  # HTTP 429 from the RIR
        ("broken-registry.com", "registration", "unusable answer"),  # HTML for JSON
        ("down-registry.net", "registration", "HTTP 500"),
        ("slow-registry.net", "registration", "Timeout"),
    ],
)
def test_a_failing_lookup_leaves_its_part_unknown_and_the_case_goes_on(
    sandbox: Sandbox, sandbox_settings: Settings, host: str, part: str, why: str
) -> None:
    facts = located(host, Category.hate, sandbox, sandbox_settings)
    problems = {u.part: u.why for u in facts.unknowns}
    assert why in problems[part]
    # The rest was still found: the AS's country places the content.
    assert facts.jurisdiction == "foreign" and facts.country in {"NO", "US"}
    failed = [lookup for lookup in facts.lookups if lookup.error]
    assert failed and all(lookup.attempts >= 1 for lookup in failed)


def test_a_rate_limited_server_is_not_asked_again_for_a_while(
    sandbox: Sandbox, sandbox_settings: Settings
) -> None:
    before = sandbox.lookups()["rdap"]
    cases = [case_for(sandbox, "svart-forum.no", Category.hate, n) for n in range(5)]
    facts = resolved(run_through(SPEC, cases, sandbox_settings))
    # One question: 429 is not retried at once, and the failure is kept (Retry-After: 120).
    assert sandbox.lookups()["rdap"] - before == 2  # the network, once; the domain, once
    assert all(f.network is not None and f.network.asn == 210501 for f in facts)


def test_everything_down_still_resolves_the_case(
    sandbox: Sandbox, sandbox_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTLINE_RDAP_URL", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("HOTLINE_KZ_WHOIS_SERVER", "127.0.0.1:9")
    for host, category in (("best-casino.kz", Category.gambling), ("hate-forum.de", Category.hate)):
        facts = located(host, category, sandbox, Settings())
        parts = {u.part for u in facts.unknowns}
        assert {"network", "registration"} <= parts
        # The TLD and the AS (DNS) still tell where it is.
        assert facts.jurisdiction == ("domestic" if host.endswith(".kz") else "foreign")


@pytest.mark.parametrize("host", ["loop-a.kz", "hop0.deep-chain.kz"])
def test_a_cname_loop_or_a_50_name_chain_is_cut_off_with_a_reason(
    sandbox: Sandbox, sandbox_settings: Settings, host: str
) -> None:
    facts = located(host, Category.hate, sandbox, sandbox_settings)
    assert {u.part: u.why for u in facts.unknowns}["dns"] == "dns: cname_chain"
    assert facts.jurisdiction == "domestic" and facts.rule == "home_tld"


def test_reports_on_one_host_cost_one_lookup_of_each_kind(
    sandbox: Sandbox, sandbox_settings: Settings
) -> None:
    before = sandbox.lookups()
    cases = [
        case_for(sandbox, "crypto-pyramid.kz", Category.financial_pyramid, n) for n in range(40)
    ]

    async def go() -> list[JurisdictionFacts]:
        async with StageHarness(SPEC, sandbox_settings) as stage:
            # At once, as a worker runs them: the later ones wait on the lookups in flight.
            outputs = await asyncio.gather(
                *(stage.processor.process(stage.message(case)) for case in cases)
            )
            return resolved([out for batch in outputs for out in batch])

    facts = asyncio.run(go())
    after = sandbox.lookups()
    assert after["whois"] - before["whois"] == 1
    assert after["rdap"] - before["rdap"] == 1
    # A, AAAA, NS, MX, the AS's two TXT answers: once each.
    assert after["dns"] - before["dns"] <= 6
    assert sum(not lookup.cached for f in facts for lookup in f.lookups) == 5
    assert len({f.rule for f in facts}) == 1


def test_a_cached_answer_says_how_old_it_is(sandbox: Sandbox, sandbox_settings: Settings) -> None:
    cases = [case_for(sandbox, "street-fights.ru", Category.violence, n) for n in range(2)]
    first, second = resolved(run_through(SPEC, cases, sandbox_settings))
    assert not any(lookup.cached for lookup in first.lookups)
    assert all(lookup.cached and lookup.age_s >= 0 for lookup in second.lookups)
    assert [lk.looked_up_at for lk in first.lookups] == [lk.looked_up_at for lk in second.lookups]


def test_bad_input_is_dead_lettered(sandbox_settings: Settings) -> None:
    (out,) = run_through(SPEC, [b'{"case_id": "HL-1"}'], sandbox_settings)
    assert out.topic == "hotline.dlq.jurisdiction"
    assert DeadLetter.model_validate_json(out.value).error_type == "PermanentError"


# ---------------------------------------------------------------- the pure decision


def by_hand(
    host: str,
    *,
    ip_country: str | None = None,
    registrant: str | None = None,
    chain: tuple[str, ...] = (),
    asn: int | None = None,
) -> Located:
    """Facts as lookups would find them, without the lookups."""
    network = None
    if ip_country is not None or asn is not None:
        network = NetworkFacts(address="192.0.2.1", country=ip_country, asn=asn)
    registration = RegistrationFacts(domain=host, registrant_country=registrant)
    dns = DnsFacts(addresses=["192.0.2.1"], cname_chain=list(chain), ns=[], mx=[])
    return Located(domain_facts(host), dns=dns, network=network, registration=registration)


def with_platform(country: str, suffix: str, representative: bool) -> Directories:
    """The shipped directories, with one platform of our own instead of the real ones."""
    platform = Platform(
        name="Test Platform",
        organisation="Test Platform Ltd",
        country=country,
        user_suffixes=[suffix],
        abuse=Contact(channel="email", address="abuse@platform.example"),
        domestic_representative=representative,
    )
    shipped = load_directories()
    platforms = Platforms(version="test", platforms=[platform])
    return Directories(shipped.partners, shipped.domestic, shipped.cdns, platforms)


def test_a_kz_site_on_a_foreign_platforms_user_subdomain_is_not_domestic() -> None:
    # jcloud.kz is a private suffix of the PSL: say a foreign company ran it.
    directories = with_platform("DE", "jcloud.kz", representative=False)
    facts = decide(by_hand("shop.jcloud.kz", ip_country="DE"), Category.drugs, RULES, directories)
    assert (facts.jurisdiction, facts.rule, facts.handled_by) == (
        "foreign",
        "platform_user_site",
        "platform",
    )
    assert [r.kind for r in facts.recipients] == ["platform"]
    assert "registrar" not in {r.kind for r in facts.recipients}


def test_a_platform_with_a_domestic_representative_is_handled_at_home() -> None:
    directories = with_platform("US", "github.io", representative=True)
    facts = decide(by_hand("someone.github.io", ip_country="US"), Category.hate, RULES, directories)
    assert (facts.jurisdiction, facts.rule) == ("domestic", "platform_with_domestic_representative")
    # The directory lists no channel for its representative: said, not guessed.
    assert any("representative" in u.why for u in facts.unknowns)


def test_a_user_site_on_a_platform_at_home_is_domestic() -> None:
    directories = with_platform("KZ", "jcloud.kz", representative=False)
    facts = decide(by_hand("shop.jcloud.kz", ip_country="DE"), Category.hate, RULES, directories)
    assert (facts.jurisdiction, facts.rule, facts.country) == ("domestic", "platform_at_home", "KZ")


@pytest.mark.parametrize(
    ("host", "facts", "jurisdiction", "rule"),
    [
        ("site.kz", {"ip_country": "DE"}, "domestic", "home_tld"),
        ("site.com.kz", {}, "domestic", "home_tld"),
        ("site.com", {"ip_country": "KZ"}, "domestic", "hosted_at_home"),
        ("site.com", {"ip_country": "FR"}, "foreign", "hosted_abroad"),
        ("site.com", {"registrant": "KZ"}, "domestic", "registered_at_home"),
        ("site.com", {}, "unknown", "nothing_known"),
        ("site.com", {"asn": 13335, "ip_country": "US"}, "unknown", "cdn_fronted"),
        ("site.com", {"chain": ("x.site.com.edgekey.net",)}, "unknown", "cdn_fronted"),
        ("10.0.0.1", {"ip_country": "KZ"}, "domestic", "hosted_at_home"),
    ],
)
def test_the_first_matching_rule_decides(
    host: str, facts: dict[str, object], jurisdiction: str, rule: str
) -> None:
    found = decide(by_hand(host, **facts), Category.hate, RULES, load_directories())  # type: ignore[arg-type]
    assert (found.jurisdiction, found.rule) == (jurisdiction, rule)


def test_confidence_grows_with_agreeing_facts_and_falls_with_disagreeing_ones() -> None:
    directories = load_directories()
    agreeing = decide(by_hand("a.kz", ip_country="KZ", registrant="KZ"), None, RULES, directories)
    mixed = decide(by_hand("a.kz", ip_country="DE", registrant="DE"), None, RULES, directories)
    assert agreeing.rule == mixed.rule == "home_tld"
    home_tld = next(rule for rule in RULES.rules if rule.id == "home_tld")
    assert agreeing.confidence > home_tld.confidence > mixed.confidence


def test_a_rule_file_with_an_unknown_value_names_file_and_line(tmp_path: Path) -> None:
    text = (RULES_DIR / "jurisdiction" / "ruleset.yaml").read_text()
    bad = tmp_path / "ruleset.yaml"
    bad.write_text(text.replace("when: {tld: home}", "when: {tld: homeland}"))
    with pytest.raises(ValueError, match=r"ruleset.yaml:\d+: .*homeland"):
        load_jurisdiction_rules(bad)


def test_options_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_JURISDICTION_CACHE_TTL", "60")
    assert JurisdictionOptions().jurisdiction_cache_ttl == 60.0


def test_a_kz_name_behind_a_cdn_is_still_handled_at_home() -> None:
    located = by_hand("shop.kz", ip_country="US", chain=("shop.kz.cdn.cloudflare.net",))
    facts = decide(located, Category.gambling, RULES, load_directories())
    assert (facts.jurisdiction, facts.rule) == ("domestic", "home_tld")
    assert facts.fronting is not None and facts.fronting.cdn == "Cloudflare"
    assert "cdn" in {r.kind for r in facts.recipients}
