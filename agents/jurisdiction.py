"""jurisdiction: where does the content live, and who can act on it?

Reads the host the content was fetched from against the public suffix list, DNS, the network's
RDAP and the domain's registration (pipeline/lookups/locate.py; each answer shared by all of
the stage's workers through `hotline.jurisdiction.lookups`), recognises CDNs and platforms from
their directories, then decides by the first matching rule of rules/jurisdiction/ruleset.yaml:
domestic, foreign or unknown, with the evidence and a confidence. Last it lists everyone who
can act: site administrator, registrar, hosting provider, CDN, platform, partner hotline. The
dispatch stage picks among them. A lookup that fails leaves its part unknown, with the reason:
the case always goes on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from pipeline.directories import Directories, as_recipient, load_directories
from pipeline.lookups.locate import Located, Locator, LocatorPolicy
from pipeline.runtime.envelopes import envelope_output, input_event_id, next_envelope, read_envelope
from pipeline.runtime.rules import RULES_DIR, RuleSet, load_rules
from pipeline.runtime.stage import Handler, Inbound, Outbound, StageContext, StageSpec
from schemas import CaseSnapshot, Category, Outcome, StageName
from schemas.directory import Cdn, Contact, DomesticRecipient, Platform
from schemas.jurisdiction import (
    EvidenceItem,
    Fronting,
    Jurisdiction,
    JurisdictionFacts,
    Recipient,
    RecipientKind,
    Unknown,
)

STAGE: StageName = "jurisdiction"
INPUTS = ("hotline.categorized",)
JURISDICTION_RESOLVED = "hotline.jurisdiction-resolved"
# Lookup answers every worker of the stage shares (compacted).
LOOKUPS = "hotline.jurisdiction.lookups"
OUTPUTS = (JURISDICTION_RESOLVED, LOOKUPS)


class JurisdictionOptions(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOTLINE_", extra="ignore")

    jurisdiction_rules: Path = RULES_DIR / "jurisdiction" / "ruleset.yaml"
    jurisdiction_cache_ttl: float = 86_400.0  # registrations and networks change slowly
    jurisdiction_failure_ttl: float = 60.0  # a failed lookup is tried again after this
    jurisdiction_attempts: int = 2  # tries of a failing lookup within one case
    jurisdiction_backoff: float = 0.3


# ---------------------------------------------------------------- rules

Fact = Literal["tld", "ip", "registrant", "hosting", "platform", "cdn"]
_VALUES: dict[str, frozenset[str]] = {
    "tld": frozenset({"home", "foreign", "generic", "none"}),
    "ip": frozenset({"home", "foreign", "unknown"}),
    "registrant": frozenset({"home", "foreign", "unknown"}),
    "hosting": frozenset({"home", "foreign", "unknown"}),
    "platform": frozenset({"none", "home", "home_representative", "foreign"}),
    "cdn": frozenset({"yes", "no"}),
}


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    when: dict[Fact, list[str]] = Field(default_factory=dict)
    jurisdiction: Jurisdiction
    country: Literal["home", "hosting", "none"]
    handled_by: Literal["domestic", "partner_hotline", "hosting", "platform", "cdn", "none"]
    confidence: float = Field(ge=0, le=1)
    why: str

    @field_validator("when", mode="before")
    @classmethod
    def _lists(cls, when: object) -> object:
        if isinstance(when, dict):
            return {k: v if isinstance(v, list) else [v] for k, v in when.items()}
        return when

    @field_validator("when")
    @classmethod
    def _known_values(cls, when: dict[Fact, list[str]]) -> dict[Fact, list[str]]:
        for fact, values in when.items():
            unknown = set(values) - _VALUES[fact]
            if unknown:
                allowed = ", ".join(sorted(_VALUES[fact]))
                raise ValueError(f"{fact}: {', '.join(sorted(unknown))} (one of {allowed})")
        return when

    def holds(self, values: dict[str, str]) -> bool:
        return all(values[fact] in allowed for fact, allowed in self.when.items())


class JurisdictionRules(RuleSet):
    home: str = Field(pattern=r"^[A-Z]{2}$")
    home_tlds: list[str]
    cctld_countries: dict[str, str] = Field(default_factory=dict)
    agree: float = Field(ge=0, le=1)
    disagree: float = Field(ge=0, le=1)
    rules: list[Rule] = Field(min_length=1)

    @field_validator("rules")
    @classmethod
    def _last_catches_all(cls, rules: list[Rule]) -> list[Rule]:
        if rules[-1].when:
            raise ValueError("the last rule must have an empty `when`: every case is decided")
        return rules


def load_jurisdiction_rules(path: Path) -> JurisdictionRules:
    return load_rules(path, JurisdictionRules)


# ---------------------------------------------------------------- pure decision


@dataclass(frozen=True)
class Reading:
    """The facts as the rules see them, with what each one is."""

    values: dict[str, str]
    evidence: list[EvidenceItem]
    hosting_country: str | None
    platform: Platform | None
    cdn: tuple[Cdn, Fronting] | None


def _side(country: str | None, home: str) -> Literal["home", "foreign", "unknown"]:
    if country is None:
        return "unknown"
    return "home" if country == home else "foreign"


def tld_country(tld: str | None, rules: JurisdictionRules) -> str | None:
    if tld is None:
        return None
    if tld in rules.home_tlds:
        return rules.home
    if tld in rules.cctld_countries:
        return rules.cctld_countries[tld]
    return tld.upper() if len(tld) == 2 and tld.isalpha() else None


def read_facts(located: Located, rules: JurisdictionRules, directories: Directories) -> Reading:
    home = rules.home
    domain, network, registration = located.domain, located.network, located.registration
    evidence: list[EvidenceItem] = []

    if domain.ip_literal:
        tld = "none"
    else:
        country = tld_country(domain.tld, rules)
        tld = "generic" if country is None else _side(country, home)
        evidence.append(
            EvidenceItem(fact="tld", value=domain.tld or "", points_to=_side(country, home))
        )

    ip_country = None
    if network is not None:
        ip_country = network.country or network.asn_country
        evidence.append(
            EvidenceItem(
                fact="ip_country", value=ip_country or "?", points_to=_side(ip_country, home)
            )
        )

    registrant_country = registration.registrant_country if registration else None
    if registrant_country is not None:
        evidence.append(
            EvidenceItem(
                fact="registrant_country",
                value=registrant_country,
                points_to=_side(registrant_country, home),
            )
        )

    hosting: Literal["home", "foreign", "unknown"] = "unknown"
    if network is not None:
        names = (network.organisation, network.asn_description)
        domestic = directories.domestic_match("hosting", names, network.asn)
        company = network.organisation or network.asn_description
        if domestic is not None:
            hosting = "home"
            company = domestic.name
        elif company is not None and ip_country is not None:
            hosting = _side(ip_country, home)
        if company is not None:
            evidence.append(EvidenceItem(fact="hosting_company", value=company, points_to=hosting))

    platform = directories.platform_for(
        domain.suffix if domain.private_suffix else None, domain.registered_domain
    )
    platform_value = "none"
    if platform is not None:
        if platform.country == home:
            platform_value = "home"
        elif platform.domestic_representative or directories.representative(platform):
            platform_value = "home_representative"
        else:
            platform_value = "foreign"
        points_to = "foreign" if platform_value == "foreign" else "home"
        evidence.append(EvidenceItem(fact="platform", value=platform.name, points_to=points_to))

    cdn = _fronting(located, directories)
    if cdn is not None:
        evidence.append(EvidenceItem(fact="cdn", value=cdn[0].name, points_to="unknown"))

    values = {
        "tld": tld,
        "ip": _side(ip_country, home),
        "registrant": _side(registrant_country, home),
        "hosting": hosting,
        "platform": platform_value,
        "cdn": "yes" if cdn is not None else "no",
    }
    hosting_country = ip_country or (platform.country if platform else None)
    return Reading(values, evidence, hosting_country, platform, cdn)


def _fronting(located: Located, directories: Directories) -> tuple[Cdn, Fronting] | None:
    chain = located.dns.cname_chain if located.dns else []
    by_name = directories.cdn_by_cname(chain)
    if by_name is not None:
        cdn, name = by_name
        return cdn, Fronting(cdn=cdn.name, matched_by="cname", matched=name)
    asn = located.network.asn if located.network else None
    by_asn = directories.cdn_by_asn(asn)
    if by_asn is not None:
        return by_asn, Fronting(cdn=by_asn.name, matched_by="asn", matched=f"AS{asn}")
    return None


def decide(
    located: Located,
    category: Category | None,
    rules: JurisdictionRules,
    directories: Directories,
) -> JurisdictionFacts:
    """Where the content is handled, why, how sure, and who can act on it."""
    reading = read_facts(located, rules, directories)
    rule = next(r for r in rules.rules if r.holds(reading.values))
    country = {"home": rules.home, "hosting": reading.hosting_country, "none": None}[rule.country]
    confidence = rule.confidence
    if rule.jurisdiction is not Jurisdiction.unknown:
        towards = "home" if rule.jurisdiction is Jurisdiction.domestic else "foreign"
        for item in reading.evidence:
            if item.points_to == towards:
                confidence += rules.agree
            elif item.points_to != "unknown":
                confidence -= rules.disagree
    why = rule.why.format(
        home=rules.home,
        country=country or "an unknown country",
        platform=reading.platform.name if reading.platform else "",
        cdn=reading.cdn[0].name if reading.cdn else "",
    )
    recipients, missing = find_recipients(located, reading, category, country, directories)
    return JurisdictionFacts(
        decided_at=datetime.now(UTC),
        jurisdiction=rule.jurisdiction,
        country=country,
        confidence=round(min(max(confidence, 0.05), 0.99), 3),
        rule=rule.id,
        ruleset_version=f"{rules.version}; {directories.version}",
        why=why,
        handled_by=rule.handled_by,
        evidence=reading.evidence,
        domain=located.domain,
        dns=located.dns,
        network=located.network,
        registration=located.registration,
        fronting=reading.cdn[1] if reading.cdn else None,
        platform=reading.platform.name if reading.platform else None,
        recipients=recipients,
        unknowns=[*located.unknowns, *missing],
        lookups=located.lookups,
    )


def _language(country: str | None) -> Literal["kk", "ru", "en"]:
    # Russian is the working language with these neighbours' providers; English elsewhere.
    return "ru" if country in {"KZ", "RU", "BY", "KG", "UZ", "TJ", "TM", "AM", "AZ"} else "en"


def _via(
    kind: RecipientKind,
    name: str,
    contact: Contact | None,
    source: str,
    country: str | None,
    language: Literal["kk", "ru", "en"] | None = None,
) -> Recipient | None:
    if contact is None:
        return None
    return Recipient(
        kind=kind,
        name=name,
        channel=contact.channel,
        address=contact.address,
        country=country,
        language=language or _language(country),
        source=source,
    )


def _listed(entry: DomesticRecipient | None, home: str) -> Recipient | None:
    """A recipient of the domestic directory: its agreed channel, not the one lookups found."""
    return None if entry is None else as_recipient(entry, home)


def _mailbox(
    kind: RecipientKind, name: str, email: str | None, source: str, country: str | None
) -> Recipient | None:
    contact = Contact(channel="email", address=email) if email else None
    return _via(kind, name, contact, source, country)


class _Recipients:
    """Everyone found so far, and the contacts that could not be found."""

    def __init__(self) -> None:
        self.found: list[Recipient] = []
        self.missing: list[Unknown] = []

    def add(self, why_none: str, *candidates: Recipient | None) -> None:
        """The first of `candidates` there is, or a note of why there is none."""
        chosen = next((c for c in candidates if c is not None), None)
        if chosen is not None:
            self.found.append(chosen)
        elif why_none:
            self.missing.append(Unknown(part="abuse_contact", why=why_none))


def find_recipients(
    located: Located,
    reading: Reading,
    category: Category | None,
    country: str | None,
    directories: Directories,
) -> tuple[list[Recipient], list[Unknown]]:
    """Everyone who can act on the content, closest to it first; and the contacts that could
    not be found."""
    home = directories.home
    domain, network, registration = located.domain, located.network, located.registration
    result = _Recipients()
    platform = reading.platform
    # A user's site, or a page on the platform's own domain: the platform hosts it and acts.
    user_site = platform is not None

    if platform is not None:
        representative = directories.representative(platform)
        if platform.domestic_representative or representative is not None:
            result.add(
                f"{platform.name} has a representative, but the directory lists no channel",
                _listed(representative, home),
            )
        result.add(
            f"{platform.name} publishes no abuse channel",
            _via("platform", platform.name, platform.abuse, "directory", platform.country,
                 platform.language),
        )  # fmt: skip

    if not user_site:
        registered = domain.registered_domain or domain.host
        mail = located.dns is not None and bool(located.dns.mx)
        result.add(
            "",
            _mailbox("site_admin", registration.registrant or registration.domain,
                     registration.admin_email, "registration", registration.registrant_country)
            if registration is not None else None,
            # RFC 2142: a domain that takes mail takes reports at abuse@.
            _mailbox("site_admin", registered, f"abuse@{registered}", "rfc2142", country)
            if mail and not domain.ip_literal else None,
        )  # fmt: skip
        if registration is not None and registration.registrar:
            registrar = registration.registrar
            result.add(
                f"no contact for the registrar {registrar}",
                _listed(directories.domestic_match("registrar", [registrar]), home),
                _mailbox("registrar", registrar, registration.registrar_abuse_email, "rdap", None),
            )

    if user_site:
        pass  # the platform hosts its users' sites: its abuse desk is the host's
    elif reading.cdn is not None:
        cdn = reading.cdn[0]
        result.add(
            f"{cdn.name} publishes no abuse channel",
            _via("cdn", cdn.name, cdn.abuse, "directory", cdn.country, "en"),
        )
    elif network is not None:
        names = (network.organisation, network.asn_description)
        holder = network.organisation or network.network_name or f"AS{network.asn}"
        failed = next((u.why for u in located.unknowns if u.part == "network"), None)
        result.add(
            f"no hosting contact: network lookup failed ({failed})" if failed
            else "no hosting contact: the network names none",
            _listed(directories.domestic_match("hosting", names, network.asn), home),
            _mailbox("hosting", holder, network.abuse_email, "rdap",
                     network.country or network.asn_country),
        )  # fmt: skip

    if country is None:
        result.missing.append(
            Unknown(part="hosting_country", why="no lookup told the hosting country")
        )
    elif country != home:
        partner = directories.partner_for(country, category)
        if partner is not None:
            result.add(
                "",
                _via("partner_hotline", partner.name, partner.contact, "directory",
                     partner.country, partner.language),
            )  # fmt: skip
    return result.found, result.missing


def content_host(case: CaseSnapshot) -> str:
    """The host the content was fetched from: after redirects, where it really is."""
    for url in (
        case.content.url if case.content else None,
        case.url.final_url if case.url else None,
    ):
        if url:
            host = urlsplit(url).hostname
            if host:
                return host
    return case.report.host


# ---------------------------------------------------------------- agent wiring


def build(context: StageContext) -> Handler:
    options = context.options(JurisdictionOptions)
    rules = load_jurisdiction_rules(options.jurisdiction_rules)
    directories = load_directories()
    policy = LocatorPolicy(
        ttl=options.jurisdiction_cache_ttl,
        failure_ttl=options.jurisdiction_failure_ttl,
        attempts=options.jurisdiction_attempts,
        backoff=options.jurisdiction_backoff,
    )
    locator = Locator(context.settings, context.shared(LOOKUPS), policy)
    context.on_shutdown(locator.close)

    async def handle(inbound: Inbound) -> list[Outbound]:
        previous = read_envelope(inbound.value)
        case = previous.case
        located = await locator.locate(content_host(case), case.url)
        category = case.category.category if case.category else case.report.category
        facts = decide(located, category, rules, directories)
        envelope = next_envelope(
            previous,
            STAGE,
            Outcome.continue_,
            None,
            case.model_copy(update={"jurisdiction": facts}),
        )
        return [envelope_output(JURISDICTION_RESOLVED, envelope)]

    return handle


SPEC = StageSpec(
    name=STAGE,
    inputs=INPUTS,
    outputs=OUTPUTS,
    build=build,
    identify=input_event_id,
    concurrent=True,
    options=JurisdictionOptions,
)
