"""Gathering where a host lives: its name's parts, DNS, the network holding its address, and
its domain's registration, each lookup made once per key for all of a stage's workers.

Lookups that do not depend on each other run at once: the registration and the name servers
while the address is resolved, then the AS and the network. A lookup that fails leaves its part
out with the reason; the rest is still found.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from pipeline.config import Settings
from pipeline.lookups.dns import DnsResolver
from pipeline.lookups.memo import Answer, Loader, LookupMemo, Remembered, retrying
from pipeline.lookups.names import domain_facts
from pipeline.lookups.network import NetworkLookup
from pipeline.lookups.registration import KZ_REGISTRY_TLDS, RegistrationLookup
from pipeline.runtime.stage import SharedTable
from schemas import UrlFacts
from schemas.jurisdiction import (
    DnsFacts,
    DomainFacts,
    Lookup,
    LookupKind,
    NetworkFacts,
    RegistrationFacts,
    Unknown,
)

_A = TypeVar("_A")
_B = TypeVar("_B")


@dataclass(frozen=True)
class LocatorPolicy:
    ttl: float  # seconds an answer is reused
    failure_ttl: float  # seconds a failure is reused before the server is asked again
    attempts: int  # tries of a failing lookup within one case
    backoff: float  # seconds before the second try, doubled after


@dataclass
class Located:
    domain: DomainFacts
    dns: DnsFacts | None = None
    network: NetworkFacts | None = None
    registration: RegistrationFacts | None = None
    lookups: list[Lookup] = field(default_factory=list)
    unknowns: list[Unknown] = field(default_factory=list)


class Locator:
    def __init__(self, settings: Settings, table: SharedTable, policy: LocatorPolicy) -> None:
        self._policy = policy
        self._resolver = DnsResolver(settings)
        self._dns_source = ", ".join(settings.dns_server_list()) or "the system's resolvers"
        self._network = NetworkLookup(settings, self._resolver)
        self._registration = RegistrationLookup(settings)
        self.memo = LookupMemo(table, policy.ttl, policy.failure_ttl)

    async def close(self) -> None:
        await self._network.close()
        await self._registration.close()

    async def _get(self, kind: LookupKind, key: str, load: Loader) -> Remembered:
        policy = self._policy
        return await self.memo.get(
            kind, key, lambda: retrying(load, policy.attempts, policy.backoff)
        )

    async def locate(self, host: str, checked: UrlFacts | None) -> Located:
        """Where `host` lives; `checked` is url-verify's resolution, reused when it is of the
        same host (the snapshot carries it; asking DNS again would tell the same)."""
        located = Located(domain=domain_facts(host))
        registration = self._registration_key(located.domain)
        await _both(
            registration is None or self.memo.fresh(*registration),
            self._addresses_and_network(located, checked),
            self._registration_of(located),
        )
        located.lookups.sort(key=lambda lookup: (lookup.kind, lookup.key))
        return located

    async def _addresses_and_network(self, located: Located, checked: UrlFacts | None) -> None:
        domain = located.domain
        if domain.ip_literal:
            addresses = [domain.host]
        else:
            resolved, mail = await _both(
                _reusable(checked, domain.host),
                self._resolved(located, checked),
                self._mail_and_name_servers(located),
            )
            if resolved is None:
                return
            addresses, chain = resolved
            located.dns = DnsFacts(
                addresses=addresses,
                cname_chain=chain,
                ns=mail.get("ns", []),
                mx=mail.get("mx", []),
                error=mail.get("error"),
            )
        if addresses:
            located.network = await self._network_of(located, _first_v4(addresses))

    async def _resolved(
        self, located: Located, checked: UrlFacts | None
    ) -> tuple[list[str], list[str]] | None:
        host = located.domain.host
        if checked is not None and _reusable(checked, host):
            age = (datetime.now(UTC) - checked.checked_at).total_seconds()
            located.lookups.append(
                Lookup(
                    kind="dns",
                    key=host,
                    source="url-verify",
                    looked_up_at=checked.checked_at,
                    age_s=round(max(age, 0.0), 1),
                    cached=True,
                    attempts=checked.attempts,
                )
            )
            return list(checked.addresses), list(checked.cname_chain)

        async def resolve() -> Answer:
            found = await self._resolver.resolve(host)
            if found.error is not None:
                return Answer(None, self._dns_source, error=f"dns: {found.error}")
            data = {"addresses": list(found.addresses), "chain": list(found.cname_chain)}
            return Answer(data, self._dns_source)

        answer = await self._get("dns", host, resolve)
        located.lookups.append(answer.lookup)
        if answer.data is None:
            why = answer.lookup.error or "no answer"
            located.unknowns.append(Unknown(part="dns", why=why))
            return None
        return list(answer.data["addresses"]), list(answer.data["chain"])

    async def _mail_and_name_servers(self, located: Located) -> dict[str, Any]:
        registered = located.domain.registered_domain
        if registered is None:
            return {}

        async def query() -> Answer:
            (ns, ns_error), (mx, mx_error) = await asyncio.gather(
                self._resolver.records(registered, "NS"), self._resolver.records(registered, "MX")
            )
            error = ns_error or mx_error
            if error in {"timeout", "servfail"}:
                return Answer(None, self._dns_source, error=f"dns: {error}")
            data = {"ns": sorted(ns), "mx": sorted(mx), "error": error}
            return Answer(data, self._dns_source)

        answer = await self._get("dns", f"{registered}/ns+mx", query)
        located.lookups.append(answer.lookup)
        return answer.data or {"error": answer.lookup.error}

    async def _network_of(self, located: Located, address: str) -> NetworkFacts | None:
        asn = await self._get("asn", address, lambda: self._network.asn(address))
        located.lookups.append(asn.lookup)
        asn_data = asn.data or {}
        prefix = asn_data.get("asn_cidr") or address
        rdap = await self._get("rdap_ip", prefix, lambda: self._network.rdap(address, asn_data))
        located.lookups.append(rdap.lookup)
        if rdap.data is not None:
            # The network's answer is shared by all of its addresses: name this one.
            return NetworkFacts.model_validate({**rdap.data, "address": address})
        located.unknowns.append(
            Unknown(part="network", why=rdap.lookup.error or asn.lookup.error or "no answer")
        )
        if not asn_data:
            return None
        return NetworkFacts(
            address=address,
            asn=asn_data.get("asn"),
            asn_country=asn_data.get("asn_country"),
            asn_description=asn_data.get("asn_description"),
            cidr=asn_data.get("asn_cidr"),
        )

    @staticmethod
    def _registration_key(domain: DomainFacts) -> tuple[LookupKind, str] | None:
        registered = domain.registered_domain
        # A user's site on a platform has no registration of its own: the platform's counts.
        if registered is None or domain.private_suffix:
            return None
        return ("whois_kz" if domain.tld in KZ_REGISTRY_TLDS else "rdap_domain"), registered

    async def _registration_of(self, located: Located) -> None:
        key = self._registration_key(located.domain)
        if key is None:
            return
        kind, registered = key
        answer = await self._get(kind, registered, lambda: self._registration.lookup(registered))
        located.lookups.append(answer.lookup)
        if answer.data is None:
            located.unknowns.append(
                Unknown(part="registration", why=answer.lookup.error or "no answer")
            )
            return
        located.registration = RegistrationFacts.model_validate(answer.data)


async def _both(quick: bool, first: Awaitable[_A], second: Awaitable[_B]) -> tuple[_A, _B]:
    """Both results: one after the other when `quick` (answers at hand: no task to make for
    them, which costs more than the answer), else at once."""
    if quick:
        return await first, await second
    return await asyncio.gather(first, second)


def _reusable(checked: UrlFacts | None, host: str) -> bool:
    return checked is not None and checked.host == host and bool(checked.addresses)


def _first_v4(addresses: list[str]) -> str:
    """IPv4 first: RIR data and the CDN lists are most complete for it."""
    return next((a for a in addresses if ":" not in a), addresses[0])
