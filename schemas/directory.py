"""Directories of who can act on reported content (rules/directories/, rules/jurisdiction/).

Operators edit these files; the models check them when a worker starts and in a test, and
their JSON Schemas are exported so an editor can check a file as it is written.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.jurisdiction import ChannelKind, RecipientKind
from schemas.report import Category

Country = str  # ISO 3166-1 alpha-2, upper case
Language = Literal["kk", "ru", "en"]
_COUNTRY = r"^[A-Z]{2}$"


class Contact(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: ChannelKind
    address: str = Field(min_length=3)

    @model_validator(mode="after")
    def _address_fits_channel(self) -> Contact:
        is_mail = "@" in self.address and "://" not in self.address
        if (self.channel == "email") != is_mail:
            raise ValueError(f"{self.channel} channel with address {self.address!r}")
        return self


class PartnerHotline(BaseModel):
    """A member hotline of INHOPE: where content hosted in its country is reported."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    country: Country = Field(pattern=_COUNTRY)
    name: str
    organisation: str
    website: str | None = None
    channel: ChannelKind
    address: str
    language: Language = "en"
    categories: list[Category] = Field(min_length=1)
    home: bool = Field(default=False, description="This hotline itself: never a partner.")

    @property
    def contact(self) -> Contact:
        return Contact(channel=self.channel, address=self.address)


class PartnerHotlines(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str
    hotlines: list[PartnerHotline]


class DomesticRecipient(BaseModel):
    """An organisation at home that acts on notices: a registrar, a hosting provider, a
    platform's representative, a law-enforcement unit, the blocking or media authority."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    kind: RecipientKind
    name: str
    contact: Contact
    language: Language = "ru"
    # How the pipeline recognises it in lookups: registrar names, RDAP organisations, AS
    # numbers, platform names (case-insensitive). Authorities match nothing: routing picks them.
    matches: list[str] = Field(default_factory=list)
    asns: list[int] = Field(default_factory=list)
    categories: list[Category] = Field(
        default_factory=list, description="For authorities: what they act on (empty: all)."
    )


class DomesticDirectory(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str
    country: Country = Field(pattern=_COUNTRY)
    recipients: list[DomesticRecipient]

    @model_validator(mode="after")
    def _unique_ids(self) -> DomesticDirectory:
        ids = [r.id for r in self.recipients]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"recipient ids used twice: {', '.join(repeated)}")
        return self


class Cdn(BaseModel):
    """A CDN or reverse proxy, told by where a CNAME chain ends or by the network's ASN."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    organisation: str
    country: Country = Field(pattern=_COUNTRY)
    asns: list[int] = Field(default_factory=list)
    cname_suffixes: list[str] = Field(default_factory=list)
    abuse: Contact | None = Field(default=None, description="None: no public abuse channel.")
    forwards: bool = Field(description="It forwards abuse reports to the site's real host.")

    @model_validator(mode="after")
    def _recognisable(self) -> Cdn:
        if not self.asns and not self.cname_suffixes:
            raise ValueError(f"{self.name}: needs asns or cname_suffixes to be recognised")
        return self


class Cdns(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str
    cdns: list[Cdn]


class Platform(BaseModel):
    """A platform whose users publish on it: on their own subdomain or under its paths."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    organisation: str
    country: Country = Field(pattern=_COUNTRY)
    user_suffixes: list[str] = Field(default_factory=list)
    domains: list[str] = Field(default_factory=list)
    abuse: Contact | None = Field(default=None, description="None: no public abuse channel.")
    domestic_representative: bool
    language: Language = "en"

    @model_validator(mode="after")
    def _recognisable(self) -> Platform:
        if not self.user_suffixes and not self.domains:
            raise ValueError(f"{self.name}: needs user_suffixes or domains")
        return self


class Platforms(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str
    platforms: list[Platform]

    @model_validator(mode="after")
    def _each_name_once(self) -> Platforms:
        names = [n for p in self.platforms for n in (*p.user_suffixes, *p.domains)]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"suffixes or domains in two platforms: {', '.join(repeated)}")
        return self
