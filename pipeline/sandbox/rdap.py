"""The sandbox RDAP server (aiohttp): IP networks, entities and domains, derived from `zones`.

Paths come in RIPE style (`/ip/<ip>`, `/entity/<handle>`) and ARIN style (`/registry/ip/<ip>`,
`/registry/entity/<handle>`), as ipwhois builds them, plus `/domain/<name>` for every name that
is not under .kz or .қаз (those are the registry whois's, `pipeline/sandbox/whois.py`). Abuse
contacts are nested inside their organisation's `entities` (RFC 9083, ICANN's RDAP profile).
A provider or host may be set to answer badly (`zones.RdapBehaviour`): 429 with Retry-After,
500, a body that is not JSON, or too slowly. `RdapCounter` counts every request.
"""

from __future__ import annotations

import asyncio
from http import HTTPStatus
from ipaddress import AddressValueError, IPv4Address
from typing import Any

from aiohttp import web

from pipeline.sandbox import zones
from pipeline.sandbox.httpd import latency_middleware
from pipeline.sandbox.zones import Provider, RdapBehaviour, Registrar

_WHOIS_TLDS = ("kz", "xn--80ao21a")

_CONTENT_TYPE = "application/rdap+json"
_CONFORMANCE = ["rdap_level_0"]
# Fixed dates: the fixtures need stable values, not real ones.
_DOMAIN_EVENTS = [
    {"eventAction": "registration", "eventDate": "2023-03-14T09:00:00Z"},
    {"eventAction": "expiration", "eventDate": "2026-03-14T09:00:00Z"},
]

Json = dict[str, Any]


def _vcard(name: str, kind: str, email: str | None = None) -> list[Any]:
    properties: list[Any] = [
        ["version", {}, "text", "4.0"],
        ["fn", {}, "text", name],
        ["kind", {}, "text", kind],
    ]
    if email is not None:
        properties.append(["email", {"type": "work"}, "text", email])
    return ["vcard", properties]


def _entity(handle: str, roles: list[str], vcard: list[Any], nested: list[Json]) -> Json:
    entity: Json = {
        "objectClassName": "entity",
        "handle": handle,
        "roles": roles,
        "vcardArray": vcard,
    }
    if nested:
        entity["entities"] = nested
    return entity


def _abuse(handle: str, name: str, email: str) -> Json:
    return _entity(f"{handle}-ABUSE", ["abuse"], _vcard(f"{name} Abuse Desk", "group", email), [])


def _provider_entity(provider: Provider) -> Json:
    return _entity(
        f"{provider.handle}-ORG",
        ["registrant"],
        _vcard(provider.name, "org"),
        [_abuse(provider.handle, provider.name, provider.abuse_email)],
    )


def _registrar_entity(registrar: Registrar) -> Json:
    return _entity(
        f"{registrar.handle}-REG",
        ["registrar"],
        _vcard(registrar.name, "org"),
        [_abuse(registrar.handle, registrar.name, registrar.abuse_email)],
    )


def _entities_by_handle() -> dict[str, Json]:
    """Every entity, nested ones included, for `/entity/<handle>`."""
    found: dict[str, Json] = {}
    pending = [_provider_entity(p) for p in zones.PROVIDERS]
    pending += [_registrar_entity(r) for r in zones.REGISTRARS]
    while pending:
        entity = pending.pop()
        found[entity["handle"]] = entity
        pending += entity.get("entities", [])
    return found


def _network(provider: Provider) -> Json:
    network = provider.network
    return {
        "objectClassName": "ip network",
        "handle": f"{provider.handle}-NET",
        "startAddress": str(network.network_address),
        "endAddress": str(network.broadcast_address),
        "ipVersion": "v4",
        "name": f"{provider.handle}-NET",
        "type": "ASSIGNED PA",
        "country": provider.country,
        "cidr0_cidrs": [{"v4prefix": str(network.network_address), "length": network.prefixlen}],
        "events": [{"eventAction": "registration", "eventDate": f"{provider.allocated}T00:00:00Z"}],
        "entities": [_provider_entity(provider)],
    }


def _registrant(host: zones.Host) -> Json:
    card = _vcard(f"Registrant of {host.domain}", "individual")
    card[1].append(["adr", {"cc": host.registrant_country}, "text", ["", "", "", "", "", "", ""]])
    return _entity(f"{host.domain.upper().replace('.', '-')}-REGISTRANT", ["registrant"], card, [])


def _domain(host: zones.Host) -> Json:
    assert host.registrar is not None
    entities = [_registrar_entity(host.registrar)]
    if host.registrant_country is not None:
        entities.append(_registrant(host))
    return {
        "objectClassName": "domain",
        "handle": f"{host.domain.upper().replace('.', '-')}-DOM",
        "ldhName": host.domain,
        "status": ["active"],
        "nameservers": [
            {"objectClassName": "nameserver", "ldhName": f"ns{n}.{host.provider.domain}"}
            for n in (1, 2)
        ],
        "events": _DOMAIN_EVENTS,
        "entities": entities,
    }


def _error(code: int) -> web.Response:
    body = {"errorCode": code, "title": HTTPStatus(code).phrase}
    return web.json_response(body, status=code, content_type=_CONTENT_TYPE)


def _answer(body: Json | None) -> web.Response:
    if body is None:
        return _error(404)
    return web.json_response({"rdapConformance": _CONFORMANCE, **body}, content_type=_CONTENT_TYPE)


async def _misbehave(behaviour: RdapBehaviour) -> web.Response | None:
    """The faulty answer `behaviour` asks for, or None to answer normally."""
    if behaviour == "rate_limited":
        body = {"errorCode": 429, "title": "Too Many Requests"}
        return web.json_response(
            body, status=429, content_type=_CONTENT_TYPE, headers={"Retry-After": "120"}
        )
    if behaviour == "error":
        return _error(500)
    if behaviour == "garbage":
        return web.Response(text="<html><body>Service temporarily moved</body>", status=200,
                            content_type="application/rdap+json")  # fmt: skip
    if behaviour == "slow":
        await asyncio.sleep(zones.SLOW_RDAP_SECONDS)
    return None


class RdapCounter:
    def __init__(self) -> None:
        self.requests = 0


def build_app(
    latency: float, counter: RdapCounter, hosts: tuple[zones.Host, ...] = zones.HOSTS
) -> web.Application:
    entities = _entities_by_handle()
    by_name = {
        host.domain: host
        for host in hosts
        if host.registrar is not None and not host.domain.endswith(_WHOIS_TLDS)
    }
    domains = {name: _domain(host) for name, host in by_name.items()}

    async def ip(request: web.Request) -> web.Response:
        try:
            address = IPv4Address(request.match_info["ip"])
        except AddressValueError:
            return _error(400)
        owner = next((p for p in zones.PROVIDERS if address in p.network), None)
        if owner is None:
            return _error(404)
        return await _misbehave(owner.rdap) or _answer(_network(owner))

    async def entity(request: web.Request) -> web.Response:
        return _answer(entities.get(request.match_info["handle"].upper()))

    async def domain(request: web.Request) -> web.Response:
        name = request.match_info["name"].lower().rstrip(".")
        host = by_name.get(name)
        if host is None:
            return _error(404)
        return await _misbehave(host.rdap) or _answer(domains[name])

    @web.middleware
    async def count(request: web.Request, handler: Any) -> web.StreamResponse:
        counter.requests += 1
        response: web.StreamResponse = await handler(request)
        return response

    app = web.Application(middlewares=[count, latency_middleware(latency)])
    for prefix in ("", "/registry"):
        app.router.add_get(f"{prefix}/ip/{{ip}}", ip)
        app.router.add_get(f"{prefix}/entity/{{handle}}", entity)
    app.router.add_get("/domain/{name}", domain)
    return app
