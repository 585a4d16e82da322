"""What the jurisdiction stage learns: where the content lives, who answers for it, and why.

Every fact records where it came from and when (`Lookup`): an answer from a cache says how old
it is, a failed lookup says why, so an auditor can tell a fact from a gap.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

LookupKind = Literal["dns", "asn", "rdap_ip", "rdap_domain", "whois_kz"]


class Lookup(BaseModel):
    """One lookup a fact rests on: its source, when it was made, and how it went."""

    model_config = ConfigDict(extra="forbid")

    kind: LookupKind
    key: str = Field(description="What was looked up: a host, a network or a domain.")
    source: str = Field(description="Who answered: a server, an RDAP base URL.")
    looked_up_at: AwareDatetime
    age_s: float = Field(ge=0, description="How old the answer was when used (0: fresh).")
    cached: bool
    attempts: int = Field(ge=0)
    error: str | None = Field(default=None, description="Why it failed, when it did.")


class DomainFacts(BaseModel):
    """The name, as the public suffix list reads it (tldextract's bundled snapshot)."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field(description="The host the content was fetched from, punycode.")
    unicode_host: str
    ip_literal: bool = Field(description="The URL names an address, not a domain.")
    registered_domain: str | None = Field(description="The name a registrar registered.")
    suffix: str | None = Field(description="The public suffix, e.g. `kz`, `com.kz`, `github.io`.")
    tld: str | None = Field(description="The top-level label, punycode.")
    private_suffix: bool = Field(
        description="The suffix is a platform's (PSL private section): the host is a user's site."
    )
    idn: bool = Field(description="The name has non-ASCII labels.")


class DnsFacts(BaseModel):
    model_config = ConfigDict(extra="forbid")

    addresses: list[str]
    cname_chain: list[str]
    ns: list[str] = Field(description="Name servers of the registered domain.")
    mx: list[str] = Field(description="Mail hosts of the registered domain.")
    error: str | None = None


class NetworkFacts(BaseModel):
    """Who holds the address the content is served from (RDAP of the RIR, ASN from DNS)."""

    model_config = ConfigDict(extra="forbid")

    address: str
    asn: int | None = None
    asn_country: str | None = None
    asn_description: str | None = None
    cidr: str | None = None
    network_name: str | None = None
    country: str | None = None
    organisation: str | None = None
    abuse_email: str | None = None


class RegistrationFacts(BaseModel):
    """The domain's registration (RDAP, or the .kz registry's whois)."""

    model_config = ConfigDict(extra="forbid")

    domain: str
    registrar: str | None = None
    registrar_abuse_email: str | None = None
    registrant: str | None = None
    registrant_country: str | None = None
    admin_email: str | None = None
    created: str | None = Field(default=None, description="Registration date, ISO 8601.")
    status: list[str] = Field(default_factory=list)


class Fronting(BaseModel):
    """A CDN or reverse proxy in front of the site: the origin host is hidden behind it."""

    model_config = ConfigDict(extra="forbid")

    cdn: str
    matched_by: Literal["cname", "asn"]
    matched: str = Field(description="The CNAME or AS number that told it.")


class Jurisdiction(StrEnum):
    domestic = "domestic"
    foreign = "foreign"
    unknown = "unknown"


RecipientKind = Literal[
    "site_admin",
    "registrar",
    "hosting",
    "cdn",
    "platform",
    "partner_hotline",
    "law_enforcement",
    "blocking_authority",
    "media_authority",
]
ChannelKind = Literal["email", "webhook", "form"]


class Recipient(BaseModel):
    """Someone who can act on the content, with the channel to reach them."""

    model_config = ConfigDict(extra="forbid")

    kind: RecipientKind
    name: str
    channel: ChannelKind
    address: str = Field(description="E-mail address, webhook URL or form URL.")
    country: str | None = None
    language: Literal["kk", "ru", "en"] = "en"
    source: str = Field(description="Where the contact came from: rdap, whois, directory ….")


class EvidenceItem(BaseModel):
    """One fact the decision weighed."""

    model_config = ConfigDict(extra="forbid")

    fact: Literal["tld", "ip_country", "registrant_country", "hosting_company", "platform", "cdn"]
    value: str
    points_to: Literal["home", "foreign", "unknown"]


class Unknown(BaseModel):
    """A part that could not be found out, and why."""

    model_config = ConfigDict(extra="forbid")

    part: Literal["dns", "network", "registration", "hosting_country", "abuse_contact"]
    why: str


class JurisdictionFacts(BaseModel):
    """The jurisdiction stage's finding: the facts, the decision, everyone who can act."""

    model_config = ConfigDict(extra="forbid")

    decided_at: AwareDatetime
    jurisdiction: Jurisdiction
    country: str | None = Field(description="Where the content is hosted (ISO 3166-1), if known.")
    confidence: float = Field(ge=0, le=1)
    rule: str = Field(description="The rule that decided, from rules/jurisdiction/.")
    ruleset_version: str
    why: str
    handled_by: Literal["domestic", "partner_hotline", "hosting", "platform", "cdn", "none"] = (
        Field(description="Whose channel the case goes through first.")
    )
    evidence: list[EvidenceItem]
    domain: DomainFacts
    dns: DnsFacts | None = None
    network: NetworkFacts | None = None
    registration: RegistrationFacts | None = None
    fronting: Fronting | None = None
    platform: str | None = Field(default=None, description="The platform of a user's site.")
    recipients: list[Recipient]
    unknowns: list[Unknown] = Field(default_factory=list)
    lookups: list[Lookup] = Field(default_factory=list)
