"""The sandbox internet answers like the real one: DNS, web paths, RDAP, mail and webhook sinks,
the canary, and added latency. Clients are real (dnspython, aiohttp, smtplib) and reach only the
sandbox: aiohttp resolves names through the sandbox DNS server.
"""

from __future__ import annotations

import asyncio
import json
import re
import smtplib
import socket
import struct
import time
import zlib
from dataclasses import dataclass
from email.message import EmailMessage
from html import escape
from ipaddress import ip_address
from typing import Any

import aiohttp
import dns.asyncresolver
import dns.message
import dns.query
import dns.resolver
import pytest
from aiohttp.abc import AbstractResolver, ResolveResult
from ipwhois.rdap import _RDAPEntity, _RDAPNetwork

from pipeline.sandbox import Sandbox, zones
from pipeline.sandbox.content import Article
from pipeline.sandbox.web import SCRIPT_MARKER, STYLE_MARKER

TEST_HOST = zones.TEST_HOST


def resolver(sandbox: Sandbox, lifetime: float = 2.0) -> dns.resolver.Resolver:
    res = dns.resolver.Resolver(configure=False)
    res.nameservers = ["127.0.0.1"]
    res.port = sandbox.dns_port
    res.lifetime = lifetime
    return res


class SandboxResolver(AbstractResolver):
    """aiohttp name resolution through the sandbox DNS server (never the system resolver)."""

    def __init__(self, sandbox: Sandbox) -> None:
        self._dns = dns.asyncresolver.Resolver(configure=False)
        self._dns.nameservers = ["127.0.0.1"]
        self._dns.port = sandbox.dns_port
        self._dns.lifetime = 2.0

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        answer = await self._dns.resolve(host, "A")
        return [
            ResolveResult(
                hostname=host,
                host=record.address,
                port=port,
                family=socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for record in answer
        ]

    async def close(self) -> None:
        pass


@dataclass
class Fetched:
    status: int
    url: str
    headers: dict[str, str]
    body: bytes
    hops: list[str]


def fetch(
    sandbox: Sandbox,
    url: str,
    *,
    method: str = "GET",
    redirects: bool = True,
    timeout: float = 3.0,
    max_bytes: int = 1 << 20,
) -> Fetched:
    """One request with aiohttp; the body is read up to `max_bytes`."""

    async def go() -> Fetched:
        connector = aiohttp.TCPConnector(resolver=SandboxResolver(sandbox), use_dns_cache=False)
        client_timeout = aiohttp.ClientTimeout(total=timeout)
        async with (
            aiohttp.ClientSession(connector=connector, timeout=client_timeout) as session,
            session.request(method, url, allow_redirects=redirects) as response,
        ):
            body = bytearray()
            async for chunk in response.content.iter_chunked(1 << 16):
                body += chunk
                if len(body) >= max_bytes:
                    break
            return Fetched(
                response.status,
                str(response.url),
                dict(response.headers),
                bytes(body),
                [str(hop.url) for hop in response.history],
            )

    return asyncio.run(go())


def articles(host: zones.Host) -> list[tuple[str, Article]]:
    return [(path, page) for path, page in host.pages.items() if isinstance(page, Article)]


# --- the fixture data ---------------------------------------------------------------------------


def test_every_host_has_its_own_address_in_its_providers_network() -> None:
    addresses = [host.address for host in zones.HOSTS]
    assert len(set(addresses)) == len(addresses)
    for host in zones.HOSTS:
        assert ip_address(host.address) in host.provider.network
        assert host.provider.network.subnet_of(zones.NETWORK)


# --- DNS ----------------------------------------------------------------------------------------


def test_a_records_are_the_hosts_addresses(sandbox: Sandbox) -> None:
    res = resolver(sandbox)
    for name, address in sandbox.hosts.items():
        if not zones.is_address(name):  # a site reached by its address has no name
            assert [r.address for r in res.resolve(name, "A")] == [address]


def test_www_is_a_cname_and_the_answer_carries_the_chain(sandbox: Sandbox) -> None:
    answer = resolver(sandbox).resolve("www.best-casino.kz", "A")
    assert str(answer.canonical_name) == "best-casino.kz."
    kinds = [dns.rdatatype.to_text(rrset.rdtype) for rrset in answer.response.answer]
    assert kinds == ["CNAME", "A"]
    assert [r.address for r in answer] == [sandbox.hosts["best-casino.kz"]]


def test_two_hop_cname_chain(sandbox: Sandbox) -> None:
    answer = resolver(sandbox).resolve(f"cdn.{TEST_HOST}", "A")
    kinds = [dns.rdatatype.to_text(rrset.rdtype) for rrset in answer.response.answer]
    assert kinds == ["CNAME", "CNAME", "A"]
    assert [r.address for r in answer] == [sandbox.hosts[TEST_HOST]]


def test_ns_mx_txt(sandbox: Sandbox) -> None:
    res = resolver(sandbox)
    ns = sorted(str(r.target) for r in res.resolve("shop-drugs.ru", "NS"))
    assert ns == ["ns1.volga-dc.ru.", "ns2.volga-dc.ru."]
    (mx,) = res.resolve("shop-drugs.ru", "MX")
    assert str(mx.exchange) == "mx.volga-dc.ru."
    assert res.resolve("mx.volga-dc.ru", "A")[0].address == "127.1.3.4"
    (txt,) = res.resolve("shop-drugs.ru", "TXT")
    assert txt.strings == (b"v=spf1 mx -all",)


@pytest.mark.parametrize("name", ["nothing.best-casino.kz", "no-such-site.kz", "example.org"])
def test_unknown_names_are_nxdomain(sandbox: Sandbox, name: str) -> None:
    with pytest.raises(dns.resolver.NXDOMAIN):
        resolver(sandbox).resolve(name, "A")


def test_missing_type_is_noanswer_not_nxdomain(sandbox: Sandbox) -> None:
    res = resolver(sandbox)
    with pytest.raises(dns.resolver.NoAnswer):
        res.resolve("best-casino.kz", "AAAA")
    with pytest.raises(dns.resolver.NoAnswer):
        res.resolve("v6-loopback.kz", "A")
    assert res.resolve("v6-loopback.kz", "AAAA")[0].address == "::1"


@pytest.mark.parametrize(
    ("name", "addresses"),
    [
        ("localhost-trap.kz", ["127.0.0.1"]),
        ("intranet-panel.kz", ["10.0.0.1"]),
        ("cloud-metadata.kz", ["169.254.169.254"]),
        ("mixed-ips.kz", ["127.1.1.10", "10.0.0.1"]),
    ],
)
def test_trap_names_resolve_to_forbidden_addresses(
    sandbox: Sandbox, name: str, addresses: list[str]
) -> None:
    assert [r.address for r in resolver(sandbox).resolve(name, "A")] == addresses


def test_silent_name_times_out(sandbox: Sandbox) -> None:
    started = time.monotonic()
    with pytest.raises(dns.resolver.LifetimeTimeout):
        resolver(sandbox, lifetime=0.3).resolve("slow-dns.kazinfo-news.kz", "A")
    assert time.monotonic() - started < 2


def test_tcp_answers_too(sandbox: Sandbox) -> None:
    query = dns.message.make_query("hate-forum.de", "A")
    response = dns.query.tcp(query, "127.0.0.1", port=sandbox.dns_port, timeout=2)
    assert response.answer[0][0].address == sandbox.hosts["hate-forum.de"]


def test_cymru_asn_records(sandbox: Sandbox) -> None:
    res = resolver(sandbox)
    origin = res.resolve("10.3.1.127.origin.asn.cymru.com", "TXT")[0].strings[0].decode()
    assert [field.strip() for field in origin.split("|")] == [
        "210101",
        "127.1.3.0/24",
        "RU",
        "ripencc",
        "2011-02-15",
    ]
    described = res.resolve("AS210101.asn.cymru.com", "TXT")[0].strings[0].decode()
    assert described.startswith("210101 | RU | ripencc | 2011-02-15 | VOLGA-AS")
    with pytest.raises(dns.resolver.NXDOMAIN):
        res.resolve("2.0.1.127.origin.asn.cymru.com", "TXT")  # sandbox services: no provider


# --- web sites ----------------------------------------------------------------------------------


def test_every_article_page_is_html_with_hidden_script_and_style(sandbox: Sandbox) -> None:
    for host in zones.HOSTS:
        for path, article in articles(host):
            page = fetch(sandbox, sandbox.url(host.name, path))
            html = page.body.decode()
            assert page.status == 200
            assert page.headers["Content-Type"] == "text/html; charset=utf-8"
            assert f"<title>{escape(article.title)}</title>" in html
            assert f'lang="{article.lang}"' in html
            visible = re.sub(r"<(script|style)>.*?</\1>", "", html, flags=re.S)
            assert SCRIPT_MARKER in html and SCRIPT_MARKER not in visible
            assert STYLE_MARKER in html and STYLE_MARKER not in visible


def test_www_name_serves_the_same_site(sandbox: Sandbox) -> None:
    page = fetch(sandbox, sandbox.url("www.best-casino.kz"))
    assert page.status == 200 and "Best Casino" in page.body.decode()


@pytest.mark.parametrize(
    ("path", "status"),
    [("/status/404", 404), ("/status/410", 410), ("/status/500", 500), ("/no-such-page", 404)],
)
def test_status_paths(sandbox: Sandbox, path: str, status: int) -> None:
    for _ in range(2):  # always, not only the first time
        assert fetch(sandbox, sandbox.url(TEST_HOST, path)).status == status


def test_flaky_page_fails_once_then_works(sandbox: Sandbox) -> None:
    sandbox.reset()
    url = sandbox.url(TEST_HOST, "/flaky")
    assert [fetch(sandbox, url).status for _ in range(3)] == [503, 200, 200]


def test_removed_page_answers_once_until_reset(sandbox: Sandbox) -> None:
    sandbox.reset()
    url = sandbox.url(TEST_HOST, "/removed")
    assert [fetch(sandbox, url).status for _ in range(2)] == [200, 404]
    sandbox.reset()
    assert fetch(sandbox, url).status == 200


def test_redirect_chain_of_three_hops(sandbox: Sandbox) -> None:
    page = fetch(sandbox, sandbox.url(TEST_HOST, "/chain/1"))
    assert page.status == 200
    assert page.hops == [
        sandbox.url(TEST_HOST, "/chain/1"),
        sandbox.url(TEST_HOST, "/chain/2"),
        sandbox.url(f"www.{TEST_HOST}", "/chain/3"),
    ]
    assert page.url == sandbox.url(f"www.{TEST_HOST}", "/chain/end")


def test_redirect_to_private_address_points_at_the_canary(sandbox: Sandbox) -> None:
    sandbox.reset()
    url = sandbox.url(TEST_HOST, "/redirect/private")
    page = fetch(sandbox, url, redirects=False)
    assert page.status == 302
    assert (
        page.headers["Location"] == sandbox.canary.url == f"http://127.0.0.1:{sandbox.canary.port}/"
    )
    assert sandbox.canary.hits == 0
    fetch(sandbox, url)  # a client without an SSRF guard follows it
    assert sandbox.canary.hits == 1


def test_redirect_to_foreign_host(sandbox: Sandbox) -> None:
    url = sandbox.url(TEST_HOST, "/redirect/foreign")
    assert fetch(sandbox, url, redirects=False).headers["Location"] == sandbox.url("hate-forum.de")
    page = fetch(sandbox, url)
    assert page.status == 200 and "Glorpians" in page.body.decode()


def test_canary_counts_direct_requests(sandbox: Sandbox) -> None:
    sandbox.reset()
    fetch(sandbox, sandbox.canary.url)
    fetch(sandbox, sandbox.url("localhost-trap.kz", "/admin"), method="POST")
    assert sandbox.canary.hits == 2
    assert ip_address("127.0.0.1") not in zones.NETWORK


def test_slow_page_outlasts_a_client_timeout(sandbox: Sandbox) -> None:
    started = time.monotonic()
    with pytest.raises(asyncio.TimeoutError):
        fetch(sandbox, sandbox.url(TEST_HOST, "/slow"), timeout=0.3)
    assert time.monotonic() - started < 2


def test_endless_body_keeps_coming(sandbox: Sandbox) -> None:
    page = fetch(sandbox, sandbox.url(TEST_HOST, "/endless"), max_bytes=2 << 20)
    assert page.status == 200 and len(page.body) >= 2 << 20
    assert "Content-Length" not in page.headers


def test_script_only_page_has_no_text_outside_its_script(sandbox: Sandbox) -> None:
    html = fetch(sandbox, sandbox.url(TEST_HOST, "/js")).body.decode()
    body = html.split("<body>", 1)[1]
    without_scripts = re.sub(r"<script>.*?</script>", "", body, flags=re.S)
    assert re.sub(r"<[^>]+>", "", without_scripts).strip() == ""
    assert "Growing tomatoes" in body


def png_pixels(data: bytes) -> tuple[int, int, bytes]:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", data[16:24])
    idat = data.index(b"IDAT")
    length = struct.unpack(">I", data[idat - 4 : idat])[0]
    return width, height, zlib.decompress(data[idat + 4 : idat + 4 + length])


def test_image_is_a_valid_png(sandbox: Sandbox) -> None:
    page = fetch(sandbox, sandbox.url(TEST_HOST, "/image.png"))
    assert page.headers["Content-Type"] == "image/png"
    width, height, raw = png_pixels(page.body)
    assert (width, height) == (64, 64) and len(raw) == height * (1 + 3 * width)


def test_csam_host_serves_only_a_grey_placeholder(sandbox: Sandbox) -> None:
    (host,) = [host for host in zones.HOSTS if host.category == "csam"]
    assert list(host.pages) == ["/"]
    page = fetch(sandbox, sandbox.url(host.name))
    assert page.headers["Content-Type"] == "image/png"
    _, height, raw = png_pixels(page.body)
    assert set(raw) == {0, 128}  # filter bytes and mid grey, nothing else
    assert raw.count(0) == height


def test_pdf_is_well_formed(sandbox: Sandbox) -> None:
    page = fetch(sandbox, sandbox.url(TEST_HOST, "/document.pdf"))
    assert page.headers["Content-Type"] == "application/pdf"
    assert page.body.startswith(b"%PDF-1.4") and page.body.endswith(b"%%EOF\n")
    xref_at = int(page.body.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    assert page.body[xref_at:].startswith(b"xref")


def test_empty_page(sandbox: Sandbox) -> None:
    page = fetch(sandbox, sandbox.url(TEST_HOST, "/empty"))
    assert (page.status, page.body) == (200, b"")


def test_head_is_answered_without_a_body(sandbox: Sandbox) -> None:
    for path in ("/", "/image.png", "/endless"):
        page = fetch(sandbox, sandbox.url(TEST_HOST, path), method="HEAD")
        assert (page.status, page.body) == (200, b"")


def test_address_with_no_server_refuses(sandbox: Sandbox) -> None:
    with pytest.raises(aiohttp.ClientConnectorError):
        fetch(sandbox, sandbox.url("down-site.kz"))


# --- RDAP ---------------------------------------------------------------------------------------


def rdap(sandbox: Sandbox, path: str) -> tuple[int, dict[str, Any]]:
    page = fetch(sandbox, sandbox.rdap_url + path)
    assert page.headers["Content-Type"].startswith("application/rdap+json")
    return page.status, json.loads(page.body)


def test_rdap_ip_network_with_nested_abuse_contact(sandbox: Sandbox) -> None:
    address = sandbox.hosts["shop-drugs.ru"]
    status, network = rdap(sandbox, f"/ip/{address}")
    assert status == 200
    assert rdap(sandbox, f"/registry/ip/{address}") == (200, network)
    parsed = _RDAPNetwork(network)
    parsed.parse()
    assert parsed.vars["start_address"] == "127.1.3.0"
    assert parsed.vars["end_address"] == "127.1.3.255"
    assert parsed.vars["country"] == "RU"
    (org,) = network["entities"]
    (abuse,) = org["entities"]
    assert abuse["roles"] == ["abuse"]
    entity = _RDAPEntity(abuse)
    entity.parse()
    assert entity.vars["contact"]["email"][0]["value"] == "abuse@volga-dc.ru"


def test_rdap_entities_are_served_by_handle(sandbox: Sandbox) -> None:
    for prefix in ("", "/registry"):
        status, entity = rdap(sandbox, f"{prefix}/entity/VOLGA-ABUSE")
        assert (status, entity["roles"]) == (200, ["abuse"])
    status, org = rdap(sandbox, "/entity/VOLGA-ORG")
    assert status == 200 and org["entities"][0]["handle"] == "VOLGA-ABUSE"


def test_rdap_domain_has_registrar_and_its_abuse_email(sandbox: Sandbox) -> None:
    status, domain = rdap(sandbox, "/domain/hate-forum.de")
    assert (status, domain["ldhName"]) == (200, "hate-forum.de")
    (registrar,) = domain["entities"]
    assert registrar["roles"] == ["registrar"]
    assert registrar["entities"][0]["vcardArray"][1][3] == [
        "email",
        {"type": "work"},
        "text",
        "abuse@domainwerk.de",
    ]


def test_kz_names_are_the_registry_whois_not_rdap(sandbox: Sandbox) -> None:
    # The .kz registry publishes whois only, as the real one does.
    status, _ = rdap(sandbox, "/domain/best-casino.kz")
    assert status == 404


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/ip/127.1.0.2", 404),
        ("/ip/not-an-ip", 400),
        ("/domain/example.org", 404),
        ("/entity/NOPE", 404),
    ],
)
def test_rdap_unknown_objects(sandbox: Sandbox, path: str, status: int) -> None:
    assert rdap(sandbox, path)[0] == status


# --- sinks --------------------------------------------------------------------------------------


def test_smtp_delivery_lands_in_the_mailbox(sandbox: Sandbox) -> None:
    sandbox.reset()
    message = EmailMessage()
    message["From"] = "notices@hotline.example"
    message["To"] = "abuse@volga-dc.ru"
    message["Subject"] = "Notice"
    message.set_content("Please remove the content.")
    with smtplib.SMTP("127.0.0.1", sandbox.smtp_port, timeout=5) as smtp:
        smtp.send_message(message)
    (mail,) = sandbox.mailbox
    assert (mail.mail_from, mail.rcpt_tos) == ("notices@hotline.example", ("abuse@volga-dc.ru",))
    assert b"Please remove the content." in mail.data


def test_webhook_records_posts(sandbox: Sandbox) -> None:
    sandbox.reset()

    async def post(url: str) -> int:
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, json={"case": "c1"}, headers={"X-Signature": "abc"}) as response,
        ):
            return response.status

    assert asyncio.run(post(sandbox.webhook_url)) == 200
    assert asyncio.run(post(sandbox.webhook_fail_url)) == 500
    ok, failed = sandbox.webhook_calls
    assert (ok.path, failed.path) == ("/notices", "/fail")
    assert ok.headers["x-signature"] == "abc" and json.loads(ok.body) == {"case": "c1"}


# --- the sandbox as a whole ---------------------------------------------------------------------


def test_summary_lists_loopback_endpoints_only(sandbox: Sandbox) -> None:
    summary = json.loads(json.dumps(sandbox.summary()))
    assert {host["name"] for host in summary["hosts"]} == set(sandbox.hosts)
    for host in summary["hosts"]:
        assert ip_address(host["address"]).is_loopback
    assert summary["rdap_url"] == sandbox.rdap_url and summary["http_port"] == sandbox.http_port


def test_a_taken_port_fails_start_cleanly(sandbox: Sandbox) -> None:
    with pytest.raises(OSError):
        Sandbox(http_port=sandbox.http_port).start()


def test_latency_is_added_to_dns_and_http() -> None:
    latency = 0.2
    with Sandbox(latency=latency) as slow:
        started = time.monotonic()
        resolver(slow).resolve("best-casino.kz", "A")
        assert time.monotonic() - started >= latency
        if slow.http_port != 80:
            assert f":{slow.http_port}/" in slow.url("best-casino.kz")
        started = time.monotonic()
        assert fetch(slow, slow.rdap_url + "/ip/127.1.2.10").status == 200
        # DNS is skipped for an address literal, so this is HTTP latency alone.
        assert time.monotonic() - started >= latency
