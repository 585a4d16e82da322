"""A domain's registration: registrar, registrant country, creation date, status.

RDAP (RFC 9083) for most names, asked at `rdap_url` when set (the sandbox), else at
`rdap_domain_url` (rdap.org, which redirects to the registry's own server). The `.kz` and
`.қаз` registry publishes no RDAP: its whois (port 43) answers in a text shape of its own,
`Domain Name............: example.kz`, read here.
Failures are answers with an error; a domain the registry does not know is a fact, not one.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any
from urllib.parse import quote

import aiohttp
import orjson

from pipeline.config import Settings
from pipeline.lookups.memo import Answer
from pipeline.lookups.network import country_code, entity_email, entity_name, retry_after
from schemas.jurisdiction import RegistrationFacts

# Served by the national registry's whois, not RDAP (punycode of .қаз included).
KZ_REGISTRY_TLDS = frozenset({"kz", "xn--80ao21a"})
_WHOIS_MAX_BYTES = 64 * 1024
_SAFE_NAME = re.compile(r"^[a-z0-9.-]{1,253}$")
_WHOIS_FIELD = re.compile(r"^\s*([A-Za-z][A-Za-z /]*?)\s*\.*\s*:\s?(.*)$")


class RegistrationLookup:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._rdap = (settings.rdap_url or settings.rdap_domain_url).rstrip("/")
        host, _, port = settings.kz_whois_server.rpartition(":")
        self._whois = (host or settings.kz_whois_server, int(port) if host else 43)
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def lookup(self, domain: str) -> Answer:
        if not _SAFE_NAME.match(domain):
            return Answer(None, "none", error=f"registration: {domain!r} is not a domain name")
        if domain.rsplit(".", 1)[-1] in KZ_REGISTRY_TLDS:
            return await self._kz_whois(domain)
        return await self._rdap_domain(domain)

    async def _rdap_domain(self, domain: str) -> Answer:
        source = self._rdap
        if self._session is None:
            timeout = aiohttp.ClientTimeout(total=self._settings.rdap_timeout)
            self._session = aiohttp.ClientSession(timeout=timeout)
        url = f"{self._rdap}/domain/{quote(domain)}"
        try:
            async with self._session.get(
                url, headers={"Accept": "application/rdap+json"}, max_redirects=3
            ) as response:
                if response.status == 404:
                    return Answer(RegistrationFacts(domain=domain).model_dump(), source)
                if response.status == 429:
                    wait = retry_after(response.headers.get("Retry-After"))
                    error = "registration: rate limited (HTTP 429)"
                    return Answer(None, source, error=error, retry_after=wait)
                if response.status != 200:
                    return Answer(None, source, error=f"registration: HTTP {response.status}")
                body = await response.content.read(_WHOIS_MAX_BYTES * 4)
        except (aiohttp.ClientError, TimeoutError) as problem:
            return Answer(None, source, error=f"registration: {type(problem).__name__}")
        return registration_answer(domain, body, source)

    async def _kz_whois(self, domain: str) -> Answer:
        host, port = self._whois
        source = f"whois {host}:{port}"
        try:
            text = await asyncio.wait_for(
                _whois_query(host, port, domain), self._settings.rdap_timeout
            )
        except (OSError, TimeoutError) as problem:
            return Answer(None, source, error=f"registration: whois {type(problem).__name__}")
        facts = kz_whois_registration(domain, text)
        if facts is None:
            return Answer(None, source, error="registration: unusable whois answer")
        return Answer(facts.model_dump(), source)


def registration_answer(domain: str, body: bytes, source: str) -> Answer:
    """The facts of an RDAP domain answer's bytes, or why they are unusable."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return Answer(None, source, error="registration: unusable answer (not JSON)")
    if not isinstance(document, dict):
        return Answer(None, source, error="registration: unusable answer (not an object)")
    try:
        facts = rdap_registration(domain, document)
    except (ValueError, TypeError, KeyError, AttributeError, IndexError):
        return Answer(None, source, error="registration: unusable answer (not RDAP)")
    return Answer(facts.model_dump(), source)


async def _whois_query(host: str, port: int, domain: str) -> str:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(domain.encode("ascii") + b"\r\n")
        await writer.drain()
        data = b""
        while len(data) < _WHOIS_MAX_BYTES and (chunk := await reader.read(4096)):
            data += chunk
    finally:
        writer.close()
    return data[:_WHOIS_MAX_BYTES].decode("utf-8", "replace")


def rdap_registration(domain: str, document: dict[str, Any]) -> RegistrationFacts:
    events = {
        e.get("eventAction"): e.get("eventDate")
        for e in document.get("events") or []
        if isinstance(e, dict)
    }
    registrant_country = None
    for entity in document.get("entities") or []:
        if isinstance(entity, dict) and "registrant" in (entity.get("roles") or []):
            registrant_country = _vcard_country(entity)
    status = document.get("status")
    return RegistrationFacts(
        domain=domain,
        registrar=entity_name(document, "registrar"),
        registrar_abuse_email=_registrar_abuse(document),
        registrant=entity_name(document, "registrant"),
        registrant_country=registrant_country,
        admin_email=entity_email(document, "administrative")
        or entity_email(document, "registrant"),
        created=_iso_date(events.get("registration")),
        status=[s for s in status if isinstance(s, str)] if isinstance(status, list) else [],
    )


def _registrar_abuse(document: dict[str, Any]) -> str | None:
    """The abuse contact nested in the registrar's entity (ICANN's RDAP profile)."""
    for entity in document.get("entities") or []:
        if isinstance(entity, dict) and "registrar" in (entity.get("roles") or []):
            return entity_email(entity, "abuse")
    return None


def _vcard_country(entity: dict[str, Any]) -> str | None:
    card = entity.get("vcardArray")
    if not (isinstance(card, list) and len(card) == 2 and isinstance(card[1], list)):
        return None
    for item in card[1]:
        if isinstance(item, list) and len(item) >= 4 and item[0] == "adr":
            parameters = item[1] if isinstance(item[1], dict) else {}
            code = country_code(parameters.get("cc"))
            if code is not None:
                return code
            value = item[3]
            if isinstance(value, list) and value:
                return country_code(value[-1])
    return None


def _iso_date(value: Any) -> str | None:
    return value[:10] if isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}", value) else None


def kz_whois_registration(domain: str, text: str) -> RegistrationFacts | None:
    """The .kz registry's whois text, read field by field within its sections.

    `None` when the text is not such an answer; a domain it does not know comes back with no
    registrar ("Nothing found for this query.").
    """
    if "nothing found" in text.lower():
        return RegistrationFacts(domain=domain)
    section = ""
    fields: dict[str, str] = {}
    status: list[str] = []
    last_key = ""
    for line in text.splitlines():
        if not line.strip():
            section, last_key = "", ""
            continue
        match = _WHOIS_FIELD.match(line)
        if match is None:
            stripped = line.strip()
            if last_key == "domain status" and stripped:
                status.append(stripped.split(" - ")[0].strip())
            elif ":" not in stripped:
                section = stripped.lower()
            continue
        key, value = match.group(1).strip().lower(), match.group(2).strip()
        last_key = key
        if key == "domain status":
            status.append(value.split(" - ")[0].strip())
            continue
        fields.setdefault(f"{section}/{key}", value)
        fields.setdefault(key, value)
    if "domain name" not in fields:
        return None
    registrant = "organization using domain name"
    admin = "administrative contact/agent"
    country = country_code(fields.get(f"{registrant}/country"))
    email = fields.get(f"{admin}/email address", "")
    return RegistrationFacts(
        domain=domain,
        registrar=fields.get("current registar") or fields.get("registar created") or None,
        registrant=fields.get(f"{registrant}/organization name") or None,
        registrant_country=country,
        admin_email=email.lower() if "@" in email else None,
        created=_iso_date(fields.get("domain created")),
        status=[s for s in status if s],
    )
