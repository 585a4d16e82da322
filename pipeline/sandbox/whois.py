"""The sandbox's .kz registry whois (port-43 protocol on a free 127.0.0.1 port).

The national registry publishes no RDAP; its whois answers in a text shape of its own, kept
here field for field (`Domain Name............:`, sections such as "Organization Using Domain
Name", the registry's own spelling "Current Registar"), so the stage's parser meets what it
will meet in production. Names it does not hold get "Nothing found for this query.".
"""

from __future__ import annotations

import asyncio

from pipeline.sandbox import zones
from pipeline.sandbox.zones import Host

_TLDS = ("kz", "xn--80ao21a")
_HEADER = """Whois Server for the KZ top level domains.
This server is maintained by KazNIC Organization, a ccTLD manager for Kazakhstan Republic.

"""
_MAX_QUERY = 256


def _field(name: str, value: str) -> str:
    return f"{name}{'.' * (23 - len(name))}: {value}"


def whois_text(host: Host) -> str:
    registrar = host.registrar
    assert registrar is not None
    handle = registrar.domain.upper()
    country = host.registrant_country or host.provider.country
    provider = host.provider
    lines = [
        _field("Domain Name", host.name),
        "",
        "Organization Using Domain Name",
        _field("Name", f"Owner of {host.name}"),
        _field("Organization Name", f"Owner of {host.name}"),
        _field("Street Address", "Abai avenue 1"),
        _field("City", "Almaty" if country == "KZ" else ""),
        _field("State", ""),
        _field("Postal Code", "050000" if country == "KZ" else ""),
        _field("Country", country),
        "",
        "Administrative Contact/Agent",
        _field("NIC Handle", f"HOSTMASTER-{host.name.split('.')[0].upper()[:8]}"),
        _field("Name", "Hostmaster"),
        _field("Phone Number", "+7.7270000000"),
        _field("Fax Number", "+7.7270000000"),
        _field("Email Address", f"hostmaster@{host.name}"),
        "",
        "Nameserver in listed order",
        "",
        _field("Primary server", f"ns1.{provider.domain}"),
        _field("Primary ip address", str(provider.network[2])),
        "",
        _field("Secondary server", f"ns2.{provider.domain}"),
        _field("Secondary ip address", str(provider.network[3])),
        "",
        "Domain created: 2019-05-21 10:43:12 (GMT+0:00)",
        "Last modified : 2025-04-02 08:00:00 (GMT+0:00)",
        "Domain status : clientTransferProhibited - status prohibits domain transfer without "
        "registrar's permission",
        "                clientUpdateProhibited - status prohibits domain update without "
        "registrar's permission",
        "Registar created: " + handle,
        "Current Registar: " + handle,
        "",
    ]
    return _HEADER + "\n".join(lines) + "\n"


class WhoisServer:
    def __init__(self, latency: float, hosts: tuple[Host, ...] = zones.HOSTS) -> None:
        self._latency = latency
        self._answers = {
            h.name: whois_text(h)
            for h in hosts
            if h.registrar is not None and h.name.endswith(_TLDS)
        }
        self._behaviour = {h.name: h.rdap for h in hosts}
        self._server: asyncio.Server | None = None
        self.queries = 0
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._answer, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.queries += 1
        try:
            line = await asyncio.wait_for(reader.readline(), 5.0)
            name = line[:_MAX_QUERY].decode("ascii", "replace").strip().lower().rstrip(".")
            if self._latency:
                await asyncio.sleep(self._latency)
            behaviour = self._behaviour.get(name, "ok")
            if behaviour == "slow":
                await asyncio.sleep(zones.SLOW_RDAP_SECONDS)
            if behaviour in ("error", "rate_limited"):
                return  # the registry drops the connection: no answer at all
            text = self._answers.get(name, "Nothing found for this query.\n")
            if behaviour == "garbage":
                text = "\x00\x01 connection limit exceeded \x02\n"
            writer.write(text.encode("utf-8"))
            await writer.drain()
        except (OSError, TimeoutError):
            pass
        finally:
            writer.close()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
