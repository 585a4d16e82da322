"""`Sandbox`: the whole sandbox internet, started and stopped by one synchronous call.

The aiohttp servers (one per web host, RDAP, webhook, canary) share one event loop in a
background thread; DNS (dnslib) and SMTP (aiosmtpd) run in threads of their own. Everything binds
to loopback: the web hosts, RDAP and webhook each on their own 127.1.0.0/16 address, all on one
port; DNS, SMTP and the canary (HTTP, raw UDP, raw TCP) on 127.0.0.1.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

from aiohttp import web

from pipeline.runtime.lifecycle import StartStop
from pipeline.sandbox import rdap, zones
from pipeline.sandbox import web as sites
from pipeline.sandbox.banks import write_banks
from pipeline.sandbox.canary import Canary
from pipeline.sandbox.dns import DnsServer
from pipeline.sandbox.httpd import bind, bind_shared, serve
from pipeline.sandbox.loop import LoopThread
from pipeline.sandbox.rdap import RdapCounter
from pipeline.sandbox.sinks import (
    FAIL_PATH,
    FLAKY_PATH,
    ReceivedMail,
    SmtpSink,
    WebhookCall,
    build_webhook_app,
)
from pipeline.sandbox.whois import WhoisServer
from pipeline.sandbox.zones import CANARY_ADDRESS, RDAP_ADDRESS, WEBHOOK_ADDRESS

_LOOPBACK = "127.0.0.1"
_WEBHOOK_PATH = "/notices"


class Sandbox(StartStop):
    """Loopback servers standing in for the internet in tests, the demo and the benchmark.

    `latency` seconds are added to every DNS answer and HTTP response. `http_port` is the port
    every web host, RDAP and the webhook listen on: by default 80 when it can be bound, else a
    free port (then URLs carry it: build them with `url()`). Ports are known after `start()`.
    """

    network = str(zones.NETWORK)

    def __init__(
        self,
        latency: float = 0.0,
        http_port: int | None = None,
        extra_hosts: tuple[zones.Host, ...] = (),
    ) -> None:
        self.latency = latency
        self._zone_hosts = (*zones.HOSTS, *extra_hosts)
        self.hosts: dict[str, str] = {host.name: host.address for host in self._zone_hosts}
        self.http_port = 0
        self.canary = Canary()
        self.webhook_calls: list[WebhookCall] = []
        self._requested_port = http_port
        # Names a URL should reach the canary's port on (its address, and names resolving to it).
        self._canary_names = {CANARY_ADDRESS} | {
            trap.name for trap in zones.DNS_NAMES if CANARY_ADDRESS in trap.a
        }
        self._visits = sites.Visits()
        self._dns = DnsServer(latency, self._zone_hosts)
        self._whois = WhoisServer(latency, self._zone_hosts)
        self._rdap = RdapCounter()
        self._smtp = SmtpSink(latency)
        self._loop: LoopThread | None = None
        self._runners: list[web.AppRunner] = []
        self._sockets: list[socket.socket] = []

    @property
    def dns_port(self) -> int:
        return self._dns.port

    @property
    def smtp_port(self) -> int:
        return self._smtp.port

    @property
    def mailbox(self) -> list[ReceivedMail]:
        return self._smtp.mailbox

    @property
    def smtp_refused(self) -> int:
        """Messages the SMTP sink refused (flaky and broken mailboxes)."""
        return self._smtp.refused

    @property
    def webhook_flaky_url(self) -> str:
        """An endpoint that answers 503 twice per Idempotency-Key, then 200."""
        return self.url(WEBHOOK_ADDRESS, FLAKY_PATH + "/notices")

    @property
    def rdap_url(self) -> str:
        return self.url(RDAP_ADDRESS, "")

    @property
    def webhook_url(self) -> str:
        """An endpoint that records the POST and answers 200."""
        return self.url(WEBHOOK_ADDRESS, _WEBHOOK_PATH)

    @property
    def webhook_fail_url(self) -> str:
        """An endpoint that records the POST and answers 500."""
        return self.url(WEBHOOK_ADDRESS, FAIL_PATH)

    def pipeline_env(self, banks_dir: Path) -> dict[str, str]:
        """`HOTLINE_*` settings that point a pipeline at this sandbox: its DNS server, its
        address range let through the SSRF guard, and its hash banks (written to `banks_dir`).
        Stages reach the sandbox only through these normal settings."""
        return {
            "HOTLINE_DNS_SERVERS": _LOOPBACK,
            "HOTLINE_DNS_PORT": str(self.dns_port),
            "HOTLINE_FETCH_ALLOW_NETWORKS": self.network,
            "HOTLINE_RDAP_URL": self.rdap_url,
            "HOTLINE_KZ_WHOIS_SERVER": f"{_LOOPBACK}:{self._whois.port}",
            "HOTLINE_SMTP_HOST": _LOOPBACK,
            "HOTLINE_SMTP_PORT": str(self.smtp_port),
            "HOTLINE_HASH_BANKS": str(write_banks(banks_dir)),
        }

    def url(self, host: str, path: str = "/") -> str:
        """`http://host[:port]path` as a client outside the sandbox would write it."""
        port = self.canary.port if host in self._canary_names else self.http_port
        return f"http://{host}{path}" if port == 80 else f"http://{host}:{port}{path}"

    def start(self) -> None:
        if self._loop is not None:
            raise RuntimeError("sandbox already started")
        self.stopped_on_failure(self._start)

    def _start(self) -> None:
        apps = {
            host.address: sites.build_app(host, self._visits, self.url, self.latency, self.canary)
            for host in self._zone_hosts
        }
        apps[RDAP_ADDRESS] = rdap.build_app(self.latency, self._rdap, self._zone_hosts)
        apps[WEBHOOK_ADDRESS] = build_webhook_app(self.webhook_calls, self.latency)
        shared = bind_shared(list(apps), self._requested_port)
        canary_socket = bind(CANARY_ADDRESS, 0)
        canary_raw = self.canary.bind_raw()
        self._sockets = [*shared, canary_socket, *canary_raw]
        self.http_port = shared[0].getsockname()[1]
        self.canary.port = canary_socket.getsockname()[1]
        served = list(zip(apps.values(), shared, strict=True))
        served.append((self.canary.build_app(self.latency), canary_socket))
        self._loop = LoopThread("sandbox-http")
        self._loop.start()
        self._loop.run(self._serve(served))
        self._loop.run(self.canary.listen(*canary_raw))
        self._loop.run(self._whois.start())
        self._dns.start()
        self._smtp.start()

    async def _serve(self, served: list[tuple[web.Application, socket.socket]]) -> None:
        for app, sock in served:
            self._runners.append(await serve(app, sock))

    async def _cleanup(self) -> None:
        await self._whois.stop()
        await self.canary.close()
        for runner in self._runners:
            await runner.cleanup()
        self._runners = []

    def stop(self) -> None:
        """Stop whatever is running; safe after a failed start and when called twice."""
        self._smtp.stop()
        self._dns.stop()
        if self._loop is not None:
            self._loop.run(self._cleanup())
            self._loop.stop()
            self._loop = None
        for sock in self._sockets:  # those never handed to a server
            sock.close()
        self._sockets = []

    def reset(self) -> None:
        """Forget per-test state: page visits (Flaky, Once pages), canary counts, mail, webhooks."""
        if self._loop is None:
            raise RuntimeError("sandbox not started")

        def clear() -> None:
            self._visits.reset()
            self.canary.reset()
            self.webhook_calls.clear()

        # The HTTP servers update this state on their loop, so clear it there.
        self._loop.call(clear)
        self.mailbox.clear()  # the SMTP thread only appends, and list.clear() is atomic

    def lookups(self) -> dict[str, int]:
        """Questions the sandbox's DNS, RDAP and whois servers were asked since the start."""
        return {
            "dns": self._dns.queries,
            "rdap": self._rdap.requests,
            "whois": self._whois.queries,
        }

    def summary(self) -> dict[str, Any]:
        """Hosts, addresses and ports, for the CLI to print (JSON-serialisable)."""
        return {
            "network": self.network,
            "latency": self.latency,
            "dns": f"{_LOOPBACK}:{self.dns_port}",
            "http_port": self.http_port,
            "rdap_url": self.rdap_url,
            "webhook_url": self.webhook_url,
            "webhook_fail_url": self.webhook_fail_url,
            "smtp": f"{_LOOPBACK}:{self.smtp_port}",
            "kz_whois": f"{_LOOPBACK}:{self._whois.port}",
            "canary": self.canary.url,
            "canary_udp": f"{CANARY_ADDRESS}:{self.canary.udp_port}",
            "canary_tcp": f"{CANARY_ADDRESS}:{self.canary.tcp_port}",
            "hosts": [
                {
                    "name": host.name,
                    "address": host.address,
                    "country": host.country,
                    "asn": host.asn,
                    "category": host.category,
                    "url": self.url(host.name),
                }
                for host in self._zone_hosts
            ],
            "dns_only": {trap.name: [*trap.a, *trap.aaaa] for trap in zones.DNS_NAMES},
            "unanswered": sorted(zones.SILENT_NAMES),
        }
