"""Who holds an address: its AS from Team Cymru's DNS service, its network from the RIR's RDAP.

The ASN answer (`<reversed-ip>.origin.asn.cymru.com` TXT) names the announced prefix and the
RIR, so the RDAP answer is asked once per network and reused for every address in it. The RIR's
RDAP address and the parsing of its answer are ipwhois's; the request is ours (aiohttp), since
ipwhois blocks and refuses reserved addresses outright, which the sandbox's loopback networks
are. With `rdap_url` set, every RDAP request goes to that server, path kept (the sandbox's).
Failures are answers with an error, never exceptions: the case goes on without the part.
"""

from __future__ import annotations

import re
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import orjson
from ipwhois.exceptions import BaseIpwhoisException
from ipwhois.rdap import RIR_RDAP, _RDAPNetwork  # its network parser; no public name

from pipeline.config import Settings
from pipeline.lookups.dns import DnsResolver
from pipeline.lookups.memo import Answer
from schemas.jurisdiction import NetworkFacts

_CYMRU_ORIGIN = "origin.asn.cymru.com"
_CYMRU_ORIGIN6 = "origin6.asn.cymru.com"
_CYMRU_AS = "asn.cymru.com"
_RATE_LIMIT_WAIT = 300.0  # seconds to leave a rate-limiting RDAP server alone
_MAX_ANSWER = 1024 * 1024
_RIRS = frozenset(RIR_RDAP)  # arin, ripencc, apnic, lacnic, afrinic
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def cymru_origin_name(address: str) -> str:
    parsed = ip_address(address)
    if parsed.version == 4:
        return ".".join(reversed(address.split("."))) + "." + _CYMRU_ORIGIN
    nibbles = parsed.exploded.replace(":", "")
    return ".".join(reversed(nibbles)) + "." + _CYMRU_ORIGIN6


class NetworkLookup:
    """Two lookups: `asn(address)` (DNS) and `rdap(address, asn)` (the network, by prefix)."""

    def __init__(self, settings: Settings, resolver: DnsResolver) -> None:
        self._settings = settings
        self._resolver = resolver
        self._base = urlsplit(settings.rdap_url) if settings.rdap_url else None
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def asn(self, address: str) -> Answer:
        """The AS announcing `address`: number, prefix, country, RIR, name."""
        source = "Team Cymru IP-to-ASN (DNS)"
        texts, error = await self._resolver.records(cymru_origin_name(address), "TXT")
        if error is not None or not texts:
            return Answer(None, source, error=f"asn: {error or 'no TXT answer'}")
        # "15169 | 8.8.8.0/24 | US | arin | 2023-12-28": AS (first of a set), prefix, country, RIR
        fields = [part.strip() for part in texts[0].split("|")]
        registry = fields[3].lower() if len(fields) > 3 else ""
        if len(fields) < 4 or _as_int(fields[0]) is None or registry not in _RIRS:
            return Answer(None, source, error=f"asn: unusable answer {texts[0][:80]!r}")
        data = {
            "asn": _as_int(fields[0]),
            "asn_cidr": fields[1] or None,
            "asn_country": country_code(fields[2]),
            "asn_registry": registry,
            "asn_description": None,
        }
        if data["asn"] is not None:
            names, _ = await self._resolver.records(f"AS{data['asn']}.{_CYMRU_AS}", "TXT")
            # "15169 | US | arin | 2000-03-30 | GOOGLE - Google LLC, US"
            if names and names[0].count("|") >= 4:
                data["asn_description"] = names[0].split("|", 4)[4].strip() or None
        return Answer(data, source)

    async def rdap(self, address: str, asn: dict[str, Any]) -> Answer:
        """The network holding `address`, from the RDAP server of the RIR the AS answer named."""
        registry = asn.get("asn_registry") or "arin"
        url = urlsplit(RIR_RDAP[registry]["ip_url"].format(address))
        if self._base is not None:
            url = url._replace(scheme=self._base.scheme, netloc=self._base.netloc)
        source = f"{url.scheme}://{url.netloc}"
        if self._session is None:
            timeout = aiohttp.ClientTimeout(total=self._settings.rdap_timeout)
            self._session = aiohttp.ClientSession(timeout=timeout)
        try:
            async with self._session.get(
                url.geturl(), headers={"Accept": "application/rdap+json"}, max_redirects=3
            ) as response:
                if response.status == 429:
                    wait = retry_after(response.headers.get("Retry-After"))
                    return Answer(None, source, error="rdap: rate limited", retry_after=wait)
                if response.status != 200:
                    return Answer(None, source, error=f"rdap: HTTP {response.status}")
                body = await response.content.read(_MAX_ANSWER)
        except (aiohttp.ClientError, TimeoutError) as problem:
            return Answer(None, source, error=f"rdap: {type(problem).__name__}")
        return network_answer(address, asn, body, source)


def network_answer(address: str, asn: dict[str, Any], body: bytes, source: str) -> Answer:
    """The facts of an RDAP network answer's bytes, or why they are unusable."""
    try:
        document = orjson.loads(body)
        parsed = _RDAPNetwork(document)
        parsed.parse()
        facts = network_facts(address, asn, parsed.vars, document)
    except (BaseIpwhoisException, ValueError, TypeError, KeyError, AttributeError, IndexError):
        # Whatever a garbled answer makes the parser meet (orjson's and pydantic's errors are
        # ValueErrors): the answer is unusable, the case goes on without it.
        return Answer(None, source, error="rdap: unusable answer (not an RDAP network)")
    return Answer(facts.model_dump(), source)


def country_code(value: Any) -> str | None:
    """An ISO 3166-1 alpha-2 code as registries write it, or None for anything else."""
    if not isinstance(value, str):
        return None
    code = value.strip().upper()
    return code if len(code) == 2 and code.isascii() and code.isalpha() else None


def retry_after(value: str | None) -> float:
    """Seconds a 429 answer asks us to wait (`Retry-After` in seconds), or our own default."""
    try:
        return max(float(value or ""), 1.0)
    except ValueError:
        return _RATE_LIMIT_WAIT


def network_facts(
    address: str, asn: dict[str, Any], network: dict[str, Any], raw: dict[str, Any]
) -> NetworkFacts:
    """The facts of an RDAP network answer as ipwhois parses it; the abuse contact and the
    holder's name are read from the answer itself, where registries nest them (RFC 9083
    entities within entities)."""
    return NetworkFacts(
        address=address,
        asn=asn.get("asn"),
        asn_country=asn.get("asn_country"),
        asn_description=asn.get("asn_description"),
        cidr=network.get("cidr") or asn.get("asn_cidr"),
        network_name=network.get("name"),
        country=country_code(network.get("country")),
        organisation=entity_name(raw, "registrant"),
        abuse_email=entity_email(raw, "abuse"),
    )


def _entities(node: Any) -> list[dict[str, Any]]:
    """Every entity under `node`, nested ones included."""
    found: list[dict[str, Any]] = []
    pending = list(node.get("entities") or []) if isinstance(node, dict) else []
    while pending:
        entity = pending.pop(0)
        if isinstance(entity, dict):
            found.append(entity)
            pending.extend(entity.get("entities") or [])
    return found


def _vcard(entity: dict[str, Any], field: str) -> str | None:
    card = entity.get("vcardArray")
    if not (isinstance(card, list) and len(card) == 2 and isinstance(card[1], list)):
        return None
    for item in card[1]:
        if isinstance(item, list) and len(item) >= 4 and item[0] == field:
            value = item[3]
            return value if isinstance(value, str) and value.strip() else None
    return None


def entity_name(node: Any, role: str) -> str | None:
    for entity in _entities(node):
        if role in (entity.get("roles") or []):
            name = _vcard(entity, "fn")
            if name:
                return name
    return None


def entity_email(node: Any, role: str) -> str | None:
    for entity in _entities(node):
        if role in (entity.get("roles") or []):
            email = _vcard(entity, "email")
            if email and _EMAIL.match(email):
                return email.lower()
    return None


def _as_int(value: Any) -> int | None:
    try:
        return int(str(value).split()[0])
    except (TypeError, ValueError, IndexError):
        return None


def _short(problem: Exception) -> str:
    return str(problem).splitlines()[0][:200] if str(problem) else type(problem).__name__
