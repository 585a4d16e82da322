"""Checking that a reported link answers: HEAD, then GET if HEAD is not supported, redirects
followed one hop at a time.

Every hop is checked before it is requested: http or https only, and its host's addresses
(all of them) must pass the SSRF guard. The connection is made to exactly the addresses that
were checked (aiohttp gets them from the same cached resolution), so a second DNS answer cannot
swap in a private address. `check` reads no body (url-verify); `fetch` reads it within a byte
cap and only for wanted content types (content-check).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from ipaddress import ip_address
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from pipeline.config import Settings
from pipeline.lookups.cache import TtlCache
from pipeline.lookups.dns import DnsResolver, Resolution
from pipeline.lookups.guard import Network, host_address, refusal
from schemas import RedirectHop

USER_AGENT = "Mozilla/5.0 (compatible; HotlineLinkCheck/0.1; +https://hotline.example/bot)"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_HEAD_UNSUPPORTED = frozenset({400, 403, 404, 405, 501})  # some servers refuse HEAD only


@dataclass(frozen=True)
class LinkCheck:
    """The outcome of one check. `problem` is None when an HTTP answer was obtained."""

    url: str
    final_url: str | None = None
    status: int | None = None
    method: str | None = None
    content_type: str | None = None
    redirects: tuple[RedirectHop, ...] = ()
    resolution: Resolution | None = None  # of the reported host
    problem: str | None = None  # forbidden_address | dns_* | timeout | connect | ...
    detail: str | None = None
    http_ms: float | None = None
    body: bytes = field(default=b"", repr=False)  # only from `fetch`
    truncated: bool = False  # the body went on past the byte cap

    @property
    def transient(self) -> bool:
        if self.problem is None:
            return self.status is not None and (self.status >= 500 or self.status == 429)
        return self.problem in {"timeout", "connect", "dns_timeout", "dns_servfail"}


@dataclass(frozen=True)
class _Answer:
    status: int
    method: str
    headers: Any
    body: bytes = b""
    truncated: bool = False


_Ask = Callable[[str], Awaitable[_Answer]]


class _Refused(Exception):
    def __init__(self, problem: str, detail: str, resolution: Resolution | None = None) -> None:
        super().__init__(detail)
        self.problem = problem
        self.detail = detail
        self.resolution = resolution


class _VettedResolver(AbstractResolver):
    """Hands aiohttp only addresses that the guard has passed (from the shared DNS cache)."""

    def __init__(self, dns: DnsResolver, allowed: list[Network]) -> None:
        self._dns = dns
        self._allowed = allowed

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        resolution = await self._dns.resolve(host)
        results: list[ResolveResult] = []
        for address in resolution.addresses:
            if refusal(ip_address(address), self._allowed) is not None:
                raise OSError(f"refused address {address} for {host}")
            results.append(
                {
                    "hostname": host,
                    "host": address,
                    "port": port,
                    "family": socket.AF_INET6 if ":" in address else socket.AF_INET,
                    "proto": 0,
                    "flags": socket.AI_NUMERICHOST,
                }
            )
        if not results:
            raise OSError(f"no address for {host}")
        return results

    async def close(self) -> None:
        return None


@dataclass
class LinkChecker:
    settings: Settings
    dns: DnsResolver
    _session: aiohttp.ClientSession | None = None
    _cache: TtlCache[LinkCheck] = field(init=False)

    def __post_init__(self) -> None:
        self._allowed = self.settings.allowed_networks()
        self._cache = TtlCache(self.settings.lookup_cache_ttl)

    def _client(self) -> aiohttp.ClientSession:
        # Created on first use: it must belong to the running event loop.
        if self._session is None:
            connector = aiohttp.TCPConnector(
                resolver=_VettedResolver(self.dns, self._allowed),
                use_dns_cache=False,
                limit=max(self.settings.concurrency, 10),
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers={"User-Agent": USER_AGENT},
                timeout=aiohttp.ClientTimeout(total=self.settings.http_timeout),
                trust_env=False,  # never through a proxy from the environment
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def vet(self, url: str) -> Resolution | None:
        """Refuse a URL that must not be requested; returns its host's resolution."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise _Refused("scheme_not_allowed", f"{parts.scheme or 'no'} scheme")
        host = parts.hostname or ""
        literal = host_address(host)
        if literal is not None:
            reason = refusal(literal, self._allowed)
            if reason:
                raise _Refused("forbidden_address", f"{literal} is {reason}")
            return None
        resolution = await self.dns.resolve(host)
        if resolution.error:
            raise _Refused(f"dns_{resolution.error}", f"{host}: {resolution.error}", resolution)
        for address in resolution.addresses:
            reason = refusal(ip_address(address), self._allowed)
            if reason:
                raise _Refused(
                    "forbidden_address", f"{host} resolves to {address} ({reason})", resolution
                )
        return resolution

    async def check(self, url: str) -> LinkCheck:
        """Does the link answer? HEAD (GET where HEAD is refused), no body read; cached."""
        cached = self._cache.get(url)
        if cached is not None:
            return cached
        result = await self._follow(url, self._head_then_get)
        if not result.transient:
            self._cache.put(url, result)
        return result

    async def fetch(
        self, url: str, max_bytes: int, wanted: Callable[[str | None], bool]
    ) -> LinkCheck:
        """GET the content at the end of the redirects: at most `max_bytes` of it, and none when
        the declared content type is not `wanted`. Never cached: bodies are large and the page
        may have changed since the check."""

        async def get(current: str) -> _Answer:
            return await self._get_body(current, max_bytes, wanted)

        return await self._follow(url, get)

    async def _follow(self, url: str, ask: _Ask) -> LinkCheck:
        started = time.perf_counter()
        hops: list[RedirectHop] = []
        first: Resolution | None = None
        current = url

        def failed(problem: str, detail: str, resolution: Resolution | None) -> LinkCheck:
            return LinkCheck(
                url,
                redirects=tuple(hops),
                resolution=resolution,
                problem=problem,
                detail=detail,
                http_ms=round((time.perf_counter() - started) * 1000, 1),
            )

        for _ in range(self.settings.max_redirects + 1):
            try:
                resolution = await self.vet(current)
                if not hops:
                    first = resolution
                answer = await ask(current)
            except _Refused as refused:
                return failed(
                    refused.problem, refused.detail, first if hops else refused.resolution
                )
            except (TimeoutError, aiohttp.ServerTimeoutError):
                return failed("timeout", f"no answer within {self.settings.http_timeout}s", first)
            except aiohttp.ClientError as error:
                return failed("connect", str(error)[:300], first)
            location = answer.headers.get("Location")
            if answer.status in _REDIRECTS and location:
                target = urljoin(current, location)
                hops.append(RedirectHop(url=current, status=answer.status, location=target))
                current = target
                continue
            return LinkCheck(
                url,
                final_url=current,
                status=answer.status,
                method=answer.method,
                content_type=answer.headers.get("Content-Type"),
                redirects=tuple(hops),
                resolution=first,
                http_ms=round((time.perf_counter() - started) * 1000, 1),
                body=answer.body,
                truncated=answer.truncated,
            )
        return failed(
            "too_many_redirects", f"more than {self.settings.max_redirects} redirects", first
        )

    async def _head_then_get(self, url: str) -> _Answer:
        session = self._client()
        async with session.head(url, allow_redirects=False) as response:
            if response.status not in _HEAD_UNSUPPORTED:
                return _Answer(response.status, "HEAD", response.headers)
        # The body is not read: leaving the block closes the connection.
        async with session.get(url, allow_redirects=False) as response:
            return _Answer(response.status, "GET", response.headers)

    async def _get_body(
        self, url: str, max_bytes: int, wanted: Callable[[str | None], bool]
    ) -> _Answer:
        async with self._client().get(url, allow_redirects=False) as response:
            headers = response.headers
            if response.status != 200 or not wanted(headers.get("Content-Type")):
                return _Answer(response.status, "GET", headers)
            body = bytearray()
            # Chunks come decompressed, so the cap holds against compression bombs too.
            async for chunk in response.content.iter_chunked(64 * 1024):
                body += chunk
                if len(body) > max_bytes:
                    return _Answer(response.status, "GET", headers, bytes(body[:max_bytes]), True)
            return _Answer(response.status, "GET", headers, bytes(body))
