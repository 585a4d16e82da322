"""Resolving a reported host with dnspython: A and AAAA at once, the CNAME chain recorded.

Failures are results, not exceptions: "nxdomain", "no_address" and "cname_chain" (a CNAME loop
or a chain longer than dnspython follows, 16 names) are final, "timeout" and "servfail" are
transient (the caller retries them). Final results are cached for the TTL.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import dns.asyncresolver
import dns.exception
import dns.message
import dns.name
import dns.rdatatype
import dns.resolver

from pipeline.config import Settings
from pipeline.lookups.cache import TtlCache

TRANSIENT_DNS_ERRORS = frozenset({"timeout", "servfail"})


@dataclass(frozen=True)
class Resolution:
    host: str
    addresses: tuple[str, ...]
    cname_chain: tuple[str, ...]
    error: str | None  # nxdomain | no_address | cname_chain | timeout | servfail
    elapsed_ms: float

    @property
    def transient(self) -> bool:
        return self.error in TRANSIENT_DNS_ERRORS


@dataclass(frozen=True)
class _Answer:
    addresses: tuple[str, ...] = ()
    cnames: tuple[str, ...] = ()
    error: str | None = None


class DnsResolver:
    def __init__(self, settings: Settings) -> None:
        servers = settings.dns_server_list()
        resolver = dns.asyncresolver.Resolver(configure=not servers)
        if servers:
            resolver.nameservers = servers
            resolver.port = settings.dns_port
        resolver.timeout = settings.dns_timeout
        resolver.lifetime = settings.dns_timeout
        self._resolver = resolver
        self._cache: TtlCache[Resolution] = TtlCache(settings.lookup_cache_ttl)

    async def resolve(self, host: str) -> Resolution:
        cached = self._cache.get(host)
        if cached is not None:
            return cached
        started = time.perf_counter()
        try:
            # Parsed once, absolute: dnspython then neither parses it again per query nor
            # builds the names to try from a relative one (a tenth of url-verify's CPU).
            name = dns.name.from_text(host)
        except dns.exception.DNSException:
            name = None
        a, aaaa = await asyncio.gather(
            self._query(host, name, "A"), self._query(host, name, "AAAA")
        )
        elapsed = round((time.perf_counter() - started) * 1000, 1)
        addresses = a.addresses + aaaa.addresses
        cnames = a.cnames or aaaa.cnames
        errors = {a.error, aaaa.error} - {None}
        if addresses:
            error = None
        elif "nxdomain" in errors:
            error = "nxdomain"
        elif "cname_chain" in errors:
            error = "cname_chain"
        elif errors & TRANSIENT_DNS_ERRORS:
            error = "timeout" if "timeout" in errors else "servfail"
        else:
            error = "no_address"
        result = Resolution(host, addresses, cnames, error, elapsed)
        if not result.transient:
            self._cache.put(host, result)
        return result

    async def _query(self, host: str, name: dns.name.Name | None, rdtype: str) -> _Answer:
        try:
            # A host dnspython cannot parse fails in `resolve` as it always did.
            answer = await self._resolver.resolve(name or host, rdtype, search=False)
        except dns.resolver.NXDOMAIN:
            return _Answer(error="nxdomain")
        except dns.resolver.NoAnswer:
            return _Answer()
        except dns.exception.Timeout:
            return _Answer(error="timeout")
        except dns.resolver.NoNameservers as failure:
            # dnspython reports a chain it would not follow as every server failing.
            errors = failure.kwargs.get("errors") or []
            if any(isinstance(e[3], dns.message.ChainTooLong) for e in errors if len(e) > 3):
                return _Answer(error="cname_chain")
            return _Answer(error="servfail")
        except dns.resolver.YXDOMAIN:
            return _Answer(error="servfail")
        cnames = tuple(
            str(rrset[0].target).rstrip(".")
            for rrset in answer.response.answer
            if rrset.rdtype == dns.rdatatype.CNAME
        )
        return _Answer(tuple(rdata.to_text() for rdata in answer), cnames)

    async def records(self, name: str, rdtype: str) -> tuple[tuple[str, ...], str | None]:
        """The `rdtype` records at `name` as text (NS, MX exchange, TXT strings), or an error;
        a name without such records has none, which is no error."""
        answer = await self._query(name, None, rdtype)
        if answer.error is not None:
            return (), answer.error
        return tuple(_text(rdtype, item) for item in answer.addresses), None


def _text(rdtype: str, text: str) -> str:
    if rdtype == "MX":  # "10 mx.example." -> the exchange
        text = text.split()[-1]
    if rdtype == "TXT":
        return text.strip('"')
    return text.rstrip(".").lower()
