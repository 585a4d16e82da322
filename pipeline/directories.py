"""Who can act on reported content: partner hotlines abroad, recipients at home, CDNs and
platforms, loaded from their data files and checked against `schemas/directory.py`.

The files in the repository describe the sandbox's recipients (demo addresses) and public facts
(INHOPE members, CDNs, platforms); production points `HOTLINE_DOMESTIC_DIRECTORY` and
`HOTLINE_PARTNER_DIRECTORY` at its own files. Stages that route (jurisdiction, dispatch) share
this module; none of them reads another's state.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from pipeline.runtime.rules import RULES_DIR, load_rules
from schemas.directory import (
    Cdn,
    Cdns,
    DomesticDirectory,
    DomesticRecipient,
    PartnerHotline,
    PartnerHotlines,
    Platform,
    Platforms,
)
from schemas.jurisdiction import Recipient, RecipientKind
from schemas.report import Category


class DirectoryFiles(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOTLINE_", extra="ignore")

    partner_directory: Path = RULES_DIR / "directories" / "partner_hotlines.yaml"
    domestic_directory: Path = RULES_DIR / "directories" / "domestic.yaml"
    cdn_directory: Path = RULES_DIR / "jurisdiction" / "cdns.yaml"
    platform_directory: Path = RULES_DIR / "jurisdiction" / "platforms.yaml"


def _folded(names: Iterable[str]) -> frozenset[str]:
    return frozenset(name.strip().casefold() for name in names)


@dataclass(frozen=True)
class Directories:
    partners: PartnerHotlines
    domestic: DomesticDirectory
    cdns: Cdns
    platforms: Platforms

    @property
    def home(self) -> str:
        return self.domestic.country

    @property
    def version(self) -> str:
        return (
            f"partners {self.partners.version}, domestic {self.domestic.version}, "
            f"cdns {self.cdns.version}, platforms {self.platforms.version}"
        )

    def partner_for(self, country: str, category: Category | None) -> PartnerHotline | None:
        """The partner hotline of `country` that takes `category` (the first listed)."""
        for hotline in self._partners_by_country.get(country, ()):
            if category is None or category in hotline.categories:
                return hotline
        return None

    @cached_property
    def _partners_by_country(self) -> dict[str, list[PartnerHotline]]:
        found: dict[str, list[PartnerHotline]] = {}
        for hotline in self.partners.hotlines:
            if not hotline.home:
                found.setdefault(hotline.country, []).append(hotline)
        return found

    @cached_property
    def _domestic_by_name(self) -> dict[tuple[str, str], DomesticRecipient]:
        return {
            (recipient.kind, name): recipient
            for recipient in reversed(self.domestic.recipients)  # the first listed wins
            for name in _folded(recipient.matches)
        }

    def cdn_by_cname(self, chain: Iterable[str]) -> tuple[Cdn, str] | None:
        for name in chain:
            name = name.lower().rstrip(".")
            for cdn in self.cdns.cdns:
                for suffix in cdn.cname_suffixes:
                    if name == suffix or name.endswith("." + suffix):
                        return cdn, name
        return None

    def cdn_by_asn(self, asn: int | None) -> Cdn | None:
        if asn is None:
            return None
        return next((cdn for cdn in self.cdns.cdns if asn in cdn.asns), None)

    def platform_for(self, suffix: str | None, registered: str | None) -> Platform | None:
        """The platform whose user subdomain `suffix` is, or whose own domain `registered` is."""
        for platform in self.platforms.platforms:
            if suffix is not None and suffix in platform.user_suffixes:
                return platform
            if registered is not None and registered in platform.domains:
                return platform
        return None

    def representative(self, platform: Platform) -> DomesticRecipient | None:
        """The platform's legal representative at home, as the domestic directory lists it."""
        return self.domestic_match("platform", [platform.name])

    def domestic_match(
        self, kind: RecipientKind, names: Iterable[str | None], asn: int | None = None
    ) -> DomesticRecipient | None:
        """The domestic recipient of `kind` that one of `names` (registrar, organisation or
        platform, as lookups give them) or `asn` belongs to."""
        for name in (n.strip().casefold() for n in names if n):
            found = self._domestic_by_name.get((kind, name))
            if found is not None:
                return found
        if asn is not None:
            for recipient in self.domestic.recipients:
                if recipient.kind == kind and asn in recipient.asns:
                    return recipient
        return None

    def authorities(self, kind: RecipientKind, category: Category) -> list[DomesticRecipient]:
        return [
            r
            for r in self.domestic.recipients
            if r.kind == kind and (not r.categories or category in r.categories)
        ]


def as_recipient(entry: DomesticRecipient, home: str) -> Recipient:
    """A recipient of the domestic directory, with its agreed channel."""
    return Recipient(
        kind=entry.kind,
        name=entry.name,
        channel=entry.contact.channel,
        address=entry.contact.address,
        country=home,
        language=entry.language,
        source="directory",
    )


def load_directories(files: DirectoryFiles | None = None) -> Directories:
    """Every directory, checked; a bad file stops the worker with its file and line."""
    files = files or DirectoryFiles()
    paths = (
        files.partner_directory,
        files.domestic_directory,
        files.cdn_directory,
        files.platform_directory,
    )
    stamps = tuple(_stamp(path) for path in paths)
    return _load(paths, stamps)


def _stamp(path: Path) -> tuple[int, int]:
    try:
        stat = path.stat()
    except OSError:
        return (0, 0)  # load_rules says what is wrong with it
    return stat.st_mtime_ns, stat.st_size


@lru_cache(maxsize=4)
def _load(paths: tuple[Path, Path, Path, Path], stamps: object) -> Directories:
    partners, domestic, cdns, platforms = paths
    return Directories(
        partners=load_rules(partners, PartnerHotlines),
        domestic=load_rules(domestic, DomesticDirectory),
        cdns=load_rules(cdns, Cdns),
        platforms=load_rules(platforms, Platforms),
    )
