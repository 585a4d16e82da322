"""The sandbox's authoritative DNS server (dnslib, UDP and TCP on one 127.0.0.1 port).

Records are derived from `zones`: for every host its SOA, NS, A, MX, TXT and a `www.` CNAME; name
server and mail host addresses in each provider's domain; the DNS-only trap names; and Team
Cymru's ASN TXT records (`<reversed-ip>.origin.asn.cymru.com`, `AS<n>.asn.cymru.com`) for the
provider networks, which is what ipwhois asks for. Any other name is NXDOMAIN, and the silent
names get no answer at all.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from ipaddress import IPv4Address
from typing import Any

from dnslib import AAAA, CNAME, MX, NS, QTYPE, RCODE, RR, SOA, TXT, A, DNSError, DNSRecord
from dnslib.server import BaseResolver, DNSLogger, DNSServer

from pipeline.sandbox import zones
from pipeline.sandbox.zones import Provider

log = logging.getLogger(__name__)

_ADDRESS = "127.0.0.1"
_TTL = 300
_SERIAL = 2025010101
_ORIGIN_SUFFIX = ".origin.asn.cymru.com"
_ASN_SUFFIX = ".asn.cymru.com"
# CNAMEs the server follows within one answer, as a recursive resolver bounds its own work; a
# loop ends there too, answered with the chain so far: the client must cut it off itself.
_MAX_CHAIN = 64
_PORT_ATTEMPTS = 20
# How often the server threads check for stop(): the delay stop() waits at most.
_POLL_INTERVAL = 0.05

Records = dict[str, list[Any]]  # lower-case name without the final dot -> its dnslib RRs


def _ns_names(provider: Provider) -> tuple[str, str]:
    return f"ns1.{provider.domain}", f"ns2.{provider.domain}"


def _mail_host(provider: Provider) -> str:
    return f"mx.{provider.domain}"


def _apex(records: Records, name: str, provider: Provider) -> None:
    """The records every registered domain has: SOA, NS, MX and an SPF TXT."""
    ns1, ns2 = _ns_names(provider)
    soa = SOA(ns1, f"hostmaster.{provider.domain}", (_SERIAL, 7200, 3600, 1209600, _TTL))
    records[name] += [
        RR(name, QTYPE.SOA, rdata=soa, ttl=_TTL),
        RR(name, QTYPE.NS, rdata=NS(ns1), ttl=_TTL),
        RR(name, QTYPE.NS, rdata=NS(ns2), ttl=_TTL),
        RR(name, QTYPE.MX, rdata=MX(_mail_host(provider), 10), ttl=_TTL),
        RR(name, QTYPE.TXT, rdata=TXT("v=spf1 mx -all"), ttl=_TTL),
    ]


def _address(records: Records, name: str, address: str) -> None:
    if ":" in address:
        records[name].append(RR(name, QTYPE.AAAA, rdata=AAAA(address), ttl=_TTL))
    else:
        records[name].append(RR(name, QTYPE.A, rdata=A(address), ttl=_TTL))


def _alias(records: Records, name: str, target: str) -> None:
    records[name].append(RR(name, QTYPE.CNAME, rdata=CNAME(target), ttl=_TTL))


def build_records(hosts: tuple[zones.Host, ...] = zones.HOSTS) -> Records:
    """Every static record of the sandbox, from the `zones` tables."""
    records: Records = defaultdict(list)
    for provider in zones.PROVIDERS:
        _apex(records, provider.domain, provider)
        # Server addresses at .2, .3, .4 of the provider's own network.
        for index, name in enumerate((*_ns_names(provider), _mail_host(provider)), start=2):
            _address(records, name, str(provider.network[index]))
    for host in hosts:
        if zones.is_address(host.name):
            continue  # reached by its address: no name
        _apex(records, host.domain, host.provider)
        if host.fronted_by:
            # The name is an alias into the CDN's zone, where the address is.
            _alias(records, host.name, host.fronted_by[0])
            _address(records, host.fronted_by[0], host.address)
        else:
            _address(records, host.name, host.address)
        _alias(records, f"www.{host.name}", host.name)
    for trap in zones.DNS_NAMES:
        for address in (*trap.a, *trap.aaaa):
            _address(records, trap.name, address)
    for name, target in zones.CNAMES.items():
        _alias(records, name, target)
    for provider in zones.PROVIDERS:
        name = f"as{provider.asn}{_ASN_SUFFIX}"
        records[name].append(RR(name, QTYPE.TXT, rdata=TXT(_cymru_as(provider)), ttl=_TTL))
    return dict(records)


def _cymru_as(provider: Provider) -> str:
    return (
        f"{provider.asn} | {provider.country} | {provider.registry} | {provider.allocated} | "
        f"{provider.handle}-AS - {provider.name}, {provider.country}"
    )


def _cymru_origin(name: str) -> list[Any] | None:
    """The TXT answer for `<reversed-ip>.origin.asn.cymru.com` inside a provider network."""
    try:
        address = IPv4Address(".".join(reversed(name.removesuffix(_ORIGIN_SUFFIX).split("."))))
    except ValueError:
        return None
    for provider in zones.PROVIDERS:
        if address in provider.network:
            text = (
                f"{provider.asn} | {provider.network} | {provider.country} | "
                f"{provider.registry} | {provider.allocated}"
            )
            return [RR(name, QTYPE.TXT, rdata=TXT(text), ttl=_TTL)]
    return None


class ZoneResolver(BaseResolver):
    """Answers from the sandbox records, following CNAME chains like a recursive answer would."""

    def __init__(self, records: Records, latency: float) -> None:
        self._records = records
        self._latency = latency
        self.queries = 0  # answered or not; for the benchmark's count of lookups

    def _lookup(self, name: str) -> list[Any] | None:
        """The records at `name`, or None if the name does not exist."""
        if name.endswith(_ORIGIN_SUFFIX):
            return _cymru_origin(name)
        return self._records.get(name)

    def resolve(self, request: DNSRecord, handler: object) -> DNSRecord:
        # Each query runs in its own server thread, so sleeping delays only this answer.
        self.queries += 1  # one server thread per query: += under the GIL is close enough
        if self._latency > 0:
            time.sleep(self._latency)
        name = str(request.q.qname).rstrip(".").lower()
        if name in zones.SILENT_NAMES:
            raise DNSError(f"{name}: deliberately unanswered")  # dnslib then sends nothing
        qtype = request.q.qtype
        reply = request.reply()
        hops = 0
        while (found := self._lookup(name)) is not None:
            aliases = [rr for rr in found if rr.rtype == QTYPE.CNAME]
            if aliases and qtype != QTYPE.CNAME:
                hops += 1
                if hops > _MAX_CHAIN:
                    return reply  # the chain so far, as resolvers answer a loop
                reply.add_answer(*aliases)
                name = str(aliases[0].rdata.label).rstrip(".").lower()
                continue
            reply.add_answer(*[rr for rr in found if rr.rtype == qtype])
            return reply
        reply.header.rcode = RCODE.NXDOMAIN
        return reply


class DnsServer:
    """UDP and TCP dnslib servers on one free port of 127.0.0.1 (TCP for truncated answers)."""

    def __init__(self, latency: float, hosts: tuple[zones.Host, ...] = zones.HOSTS) -> None:
        self._resolver = ZoneResolver(build_records(hosts), latency)
        # dnslib prints every query by default; send it to debug logging instead.
        self._logger = DNSLogger(prefix=False, logf=log.debug)
        self._servers: list[DNSServer] = []
        self.port = 0

    def _server(self, port: int, tcp: bool) -> DNSServer:
        return DNSServer(self._resolver, address=_ADDRESS, port=port, tcp=tcp, logger=self._logger)

    def start(self) -> None:
        for _ in range(_PORT_ATTEMPTS):
            udp = self._server(0, tcp=False)
            port: int = udp.server.server_address[1]
            try:
                tcp = self._server(port, tcp=True)
            except OSError:  # the TCP side of that port is taken: try another
                udp.server.server_close()
                continue
            self._servers = [udp, tcp]
            self.port = port
            break
        else:
            raise OSError(f"no port free for both UDP and TCP on {_ADDRESS}")
        for server in self._servers:
            threading.Thread(
                target=server.server.serve_forever,
                kwargs={"poll_interval": _POLL_INTERVAL},
                name="sandbox-dns",
                daemon=True,
            ).start()

    @property
    def queries(self) -> int:
        return self._resolver.queries

    def stop(self) -> None:
        for server in self._servers:
            server.server.shutdown()
            # dnslib's own stop() leaves the socket open.
            server.server.server_close()
        self._servers = []
