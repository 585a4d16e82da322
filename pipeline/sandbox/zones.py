"""The sandbox internet as data: hosting providers, registrars, web hosts and their pages, and the
DNS-only names (private addresses, a name that never answers) that test the SSRF guard.

`dns`, `web` and `rdap` derive their records, routes and objects from these tables, so adding a
host here adds it everywhere. Every company, ASN and person is fictional; the addresses live on
the loopback block 127.1.0.0/16, one /24 per provider, so IP-based facts differ per host.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Network
from typing import Literal

from pipeline.sandbox import content
from pipeline.sandbox.content import Article
from pipeline.sandbox.hostile import HostileKind
from pipeline.sandbox.media import PngPattern

NETWORK = IPv4Network("127.1.0.0/16")
# Sandbox services outside any provider's network (127.1.0.0/24 belongs to no one).
RDAP_ADDRESS = "127.1.0.2"
WEBHOOK_ADDRESS = "127.1.0.3"
# Outside NETWORK on purpose: a fetcher that reaches the canary ignored its SSRF guard.
CANARY_ADDRESS = "127.0.0.1"


# How an RDAP (or whois) server answers for a network or a domain: normally, or with a fault the
# jurisdiction stage must survive.
RdapBehaviour = Literal["ok", "rate_limited", "error", "garbage", "slow"]
SLOW_RDAP_SECONDS = 30.0


@dataclass(frozen=True)
class Provider:
    """A hosting provider: one network, one AS, one abuse desk (`handle` prefixes its RDAP ids)."""

    handle: str
    name: str
    domain: str
    country: str
    asn: int
    registry: str  # the RIR as Team Cymru names it: ripencc, arin
    network: IPv4Network
    allocated: str  # ISO date of the allocation, as Cymru and RDAP report it
    rdap: RdapBehaviour = "ok"

    @property
    def abuse_email(self) -> str:
        return f"abuse@{self.domain}"


@dataclass(frozen=True)
class Registrar:
    """A domain registrar: the abuse contact for the domain name itself."""

    handle: str
    name: str
    domain: str

    @property
    def abuse_email(self) -> str:
        return f"abuse@{self.domain}"


# Page behaviours. A path maps to one of these; wrappers (Flaky, Once, Slow) hold the page they
# serve when they do answer. Flaky and Once count requests of any method (a HEAD check uses up a
# Once page, as it would a page removed between two checks) until `Sandbox.reset()`.


@dataclass(frozen=True)
class Status:
    """Always answers this HTTP status."""

    code: int


@dataclass(frozen=True)
class Flaky:
    """503 on the first request of the path, `page` from the second on (a transient failure)."""

    page: Page


@dataclass(frozen=True)
class Once:
    """`page` on the first request of the path, 404 afterwards (content removed after a report)."""

    page: Page


@dataclass(frozen=True)
class Slow:
    """Sleeps `seconds` before serving `page`."""

    seconds: float
    page: Page


@dataclass(frozen=True)
class Redirect:
    """302 to `path` on `host` (None: a relative Location on the same host)."""

    path: str
    host: str | None = None


@dataclass(frozen=True)
class Endless:
    """A 200 whose body never ends."""


@dataclass(frozen=True)
class ScriptOnly:
    """A page with no text in its HTML: a script writes `article` into the body."""

    article: Article


@dataclass(frozen=True)
class Png:
    pattern: PngPattern


@dataclass(frozen=True)
class Pdf:
    text: str


@dataclass(frozen=True)
class Empty:
    """A 200 text/html with an empty body."""


@dataclass(frozen=True)
class Download:
    """A program for download (application/octet-stream): neither text nor media."""


@dataclass(frozen=True)
class Gallery:
    """`article` with an image loaded from another host's `path`."""

    article: Article
    image_host: str
    image_path: str


@dataclass(frozen=True)
class Hostile:
    """A page whose scripts aim WebRTC, WebSockets, WebTransport and preconnects at the canary's
    raw UDP and TCP ports (`pipeline.sandbox.hostile`); it loads an image from `wait_url`, which
    should be slow, to stay open meanwhile."""

    kind: HostileKind
    wait_url: str


Page = (
    Article
    | Status
    | Flaky
    | Once
    | Slow
    | Redirect
    | Endless
    | ScriptOnly
    | Png
    | Pdf
    | Empty
    | Download
    | Gallery
    | Hostile
)


@dataclass(frozen=True)
class Host:
    """A web site: its own address, who hosts it and registered its name, and its pages by path.

    `category` is what the site's content is about (the hotline categories); None for a harmless
    site.
    """

    name: str  # the DNS name, punycode; an address for a site reached by IP literal
    address: str
    provider: Provider
    registrar: Registrar | None  # None: no domain of its own (an IP literal, a user subdomain)
    category: str | None
    pages: Mapping[str, Page]
    # Where the name's registration is published (whois for .kz and .қаз) and how it answers.
    rdap: RdapBehaviour = "ok"
    registrant_country: str | None = None
    # Extra aliases to reach it through: the host's name is a CNAME to the first.
    fronted_by: tuple[str, ...] = field(default=())
    # The registered domain, when the site is on a name under it (a CNAME cannot be at the apex).
    apex: str | None = None

    @property
    def domain(self) -> str:
        return self.apex or self.name

    @property
    def country(self) -> str:
        return self.provider.country

    @property
    def asn(self) -> int:
        return self.provider.asn

    @property
    def abuse_email(self) -> str:
        return self.provider.abuse_email


def is_address(name: str) -> bool:
    return name.replace(".", "").isdigit() or ":" in name


@dataclass(frozen=True)
class DnsName:
    """A name that exists only in DNS (no site, no registrar): a trap for the SSRF guard."""

    name: str
    a: tuple[str, ...] = ()
    aaaa: tuple[str, ...] = ()


STEPPE = Provider(
    "STEPPE",
    "Steppe Hosting LLP",
    "steppe-hosting.kz",
    "KZ",
    210001,
    "ripencc",
    IPv4Network("127.1.1.0/24"),
    "2014-05-21",
)
ALTYN = Provider(
    "ALTYN",
    "Altyn Cloud JSC",
    "altyn-cloud.kz",
    "KZ",
    210002,
    "ripencc",
    IPv4Network("127.1.2.0/24"),
    "2017-09-04",
)
VOLGA = Provider(
    "VOLGA",
    "Volga DC LLC",
    "volga-dc.ru",
    "RU",
    210101,
    "ripencc",
    IPv4Network("127.1.3.0/24"),
    "2011-02-15",
)
RHEIN = Provider(
    "RHEIN",
    "Rhein Server GmbH",
    "rhein-server.de",
    "DE",
    210201,
    "ripencc",
    IPv4Network("127.1.4.0/24"),
    "2009-11-30",
)
PRAIRIE = Provider(
    "PRAIRIE",
    "Prairie Hosting Inc.",
    "prairie-hosting.com",
    "US",
    210301,
    "arin",
    IPv4Network("127.1.5.0/24"),
    "2006-07-12",
)
POLDER = Provider(
    "POLDER",
    "Polder Hosting B.V.",
    "polder-hosting.nl",
    "NL",
    210401,
    "ripencc",
    IPv4Network("127.1.6.0/24"),
    "2012-03-08",
)
# Stands in for a CDN: the AS number and CNAME suffix are Cloudflare's public ones, so the CDN
# directory (rules/jurisdiction/cdns.yaml) recognises it as it would the real one.
EDGE = Provider(
    "EDGE",
    "Cloudflare, Inc.",
    "cloudflare.net",
    "US",
    13335,
    "arin",
    IPv4Network("127.1.7.0/24"),
    "2010-07-14",
)
# A network whose RIR rate-limits every RDAP question (HTTP 429).
FJORD = Provider(
    "FJORD",
    "Fjord Hosting AS",
    "fjord-hosting.no",
    "NO",
    210501,
    "ripencc",
    IPv4Network("127.1.8.0/24"),
    "2015-10-01",
    rdap="rate_limited",
)
PROVIDERS = (STEPPE, ALTYN, VOLGA, RHEIN, PRAIRIE, POLDER, EDGE, FJORD)

KZ_NAMES = Registrar("KZNAMES", "KZ Names LLP", "kznames.kz")
RUNET_REG = Registrar("RUNETREG", "Runet Registrar LLC", "runet-registrar.ru")
DOMAINWERK = Registrar("DOMAINWERK", "Domainwerk GmbH", "domainwerk.de")
SUMMIT = Registrar("SUMMIT", "Summit Registrar Inc.", "summit-registrar.com")
TULIP = Registrar("TULIP", "Tulip Domains B.V.", "tulip-domains.nl")
REGISTRARS = (KZ_NAMES, RUNET_REG, DOMAINWERK, SUMMIT, TULIP)

_UNANSWERED = "slow-dns.kazinfo-news.kz"  # DNS never answers it

# The host whose paths exercise the fetcher: statuses, redirects, time and size limits, file types.
TEST_HOST = "sample-site.com"
_TEST_PAGES: Mapping[str, Page] = {
    "/": content.GARDEN_EN,
    "/status/404": Status(404),
    "/status/410": Status(410),
    "/status/500": Status(500),
    "/flaky": Flaky(content.HERBS_EN),
    # Three hops, the middle one through another name of the same site.
    "/chain/1": Redirect("/chain/2"),
    "/chain/2": Redirect("/chain/3", host=f"www.{TEST_HOST}"),
    "/chain/3": Redirect("/chain/end"),
    "/chain/end": content.HERBS_EN,
    "/redirect/private": Redirect("/", host=CANARY_ADDRESS),
    "/redirect/foreign": Redirect("/", host="hate-forum.de"),
    "/slow": Slow(30.0, content.HERBS_EN),
    "/endless": Endless(),
    "/js": ScriptOnly(content.GARDEN_EN),
    "/image.png": Png("stripes"),
    "/document.pdf": Pdf("CryptoRise investor brochure: 30 percent a week, guaranteed."),
    "/empty": Empty(),
    "/removed": Once(content.HERBS_EN),
    "/setup.exe": Download(),
    # Loads the csam test host's image: rendering must refuse it when a csam bank lists it.
    "/gallery": Gallery(content.GARDEN_EN, "restricted-media.nl", "/"),
    # A renderer must keep these from reaching the canary by any path, not only HTTP. They wait
    # on an image at the name DNS never answers, on either scheme (an https rendering of them
    # is a secure context, where WebTransport exists).
    "/hostile/webrtc": Hostile("webrtc", f"//{_UNANSWERED}/wait.png"),
    "/hostile/sockets": Hostile("sockets", f"//{_UNANSWERED}/wait.png"),
}

HOSTS = (
    Host("kazinfo-news.kz", "127.1.1.10", STEPPE, KZ_NAMES, None,
         {"/": content.NEWS_KK, "/ru": content.NEWS_RU}),
    Host("crypto-pyramid.kz", "127.1.1.11", STEPPE, KZ_NAMES, "financial_pyramid",
         {"/": content.PYRAMID_RU, "/kk": content.PYRAMID_KK, "/en": content.PYRAMID_EN}),
    Host("class9b-gossip.kz", "127.1.1.12", STEPPE, KZ_NAMES, "cyberbullying",
         {"/": content.BULLYING_KK, "/ru": content.BULLYING_RU}),
    Host("best-casino.kz", "127.1.2.10", ALTYN, KZ_NAMES, "gambling",
         {"/": content.CASINO_RU, "/kk": content.CASINO_KK}),
    Host("last-step-group.kz", "127.1.2.11", ALTYN, KZ_NAMES, "suicide",
         {"/": content.SUICIDE_RU, "/kk": content.SUICIDE_KK}),
    Host("radiant-circle.kz", "127.1.2.12", ALTYN, KZ_NAMES, "sects",
         {"/": content.SECT_RU}),
    Host("shop-drugs.ru", "127.1.3.10", VOLGA, RUNET_REG, "drugs",
         {"/": content.DRUGS_RU}),
    Host("free-nation-channel.ru", "127.1.3.11", VOLGA, RUNET_REG, "extremism",
         {"/": content.EXTREMISM_RU}),
    Host("street-fights.ru", "127.1.3.12", VOLGA, RUNET_REG, "violence",
         {"/": content.VIOLENCE_RU}),
    Host("hate-forum.de", "127.1.4.10", RHEIN, DOMAINWERK, "hate",
         {"/": content.HATE_EN}),
    Host(TEST_HOST, "127.1.5.10", PRAIRIE, SUMMIT, None, _TEST_PAGES),
    Host("northern-storm.nl", "127.1.6.11", POLDER, TULIP, "terrorism",
         {"/": content.TERRORISM_EN, "/ru": content.TERRORISM_RU}),
    # No real content of any kind: a neutral grey image, used only to check that content
    # reported as child sexual abuse material is never stored.
    Host("restricted-media.nl", "127.1.6.10", POLDER, TULIP, "csam",
         {"/": Png("grey")}),
    # Where jurisdiction is not the obvious answer:
    # a .kz name hosted abroad (handled at home, through its registrar);
    Host("kaz-zerkalo-bet.kz", "127.1.4.11", RHEIN, KZ_NAMES, "gambling",
         {"/": content.CASINO_KK}, registrant_country="KZ"),
    # a foreign site behind a CDN (origin unknown; the CDN's abuse desk forwards);
    Host("shop.hidden-market.com", "127.1.7.10", EDGE, SUMMIT, "drugs",
         {"/": content.DRUGS_RU}, fronted_by=("shop.hidden-market.com.cdn.cloudflare.net",),
         registrant_country="PA", apex="hidden-market.com"),
    # a site reached by its address alone;
    Host("127.1.4.20", "127.1.4.20", RHEIN, None, "hate", {"/": content.HATE_EN}),
    # a site whose network's RDAP rate-limits, and registries that answer garbage, fail, stall;
    Host("svart-forum.no", "127.1.8.10", FJORD, TULIP, "hate", {"/": content.HATE_EN}),
    Host("broken-registry.com", "127.1.5.11", PRAIRIE, SUMMIT, "extremism",
         {"/": content.EXTREMISM_RU}, rdap="garbage"),
    Host("down-registry.net", "127.1.5.13", PRAIRIE, SUMMIT, "hate",
         {"/": content.HATE_EN}, rdap="error"),
    Host("slow-registry.net", "127.1.5.14", PRAIRIE, SUMMIT, "hate",
         {"/": content.HATE_EN}, rdap="slow"),
    # an IDN domain under .қаз (жаңалық.қаз);
    Host("xn--80aaqw4fuxvb.xn--80ao21a", "127.1.1.13", STEPPE, KZ_NAMES, "suicide",
         {"/": content.SUICIDE_KK}, registrant_country="KZ"),
    # a user's site on a platform (a PSL private suffix);
    Host("kz-invest-club.wixsite.com", "127.1.5.12", PRAIRIE, None, "financial_pyramid",
         {"/": content.PYRAMID_RU}),
    # a page on a platform's own domain, the platform having a representative at home in the
    # sandbox's domestic directory (a stand-in: the real one serves nothing here).
    Host("tiktok.com", "127.1.6.12", POLDER, SUMMIT, "cyberbullying",
         {"/@class9b_gossip/video/7301": content.BULLYING_RU}),
)  # fmt: skip

DNS_NAMES = (
    DnsName("localhost-trap.kz", a=(CANARY_ADDRESS,)),
    DnsName("intranet-panel.kz", a=("10.0.0.1",)),
    DnsName("cloud-metadata.kz", a=("169.254.169.254",)),
    DnsName("v6-loopback.kz", aaaa=("::1",)),
    # One allowed and one private address: the guard must check every address, not the first.
    DnsName("mixed-ips.kz", a=("127.1.1.10", "10.0.0.1")),
    # In a provider's network but nothing listens: connection refused.
    DnsName("down-site.kz", a=("127.1.1.99",)),
)

# Extra aliases besides the `www.<host>` one every host gets: a two-hop CDN-style chain, a loop,
# and a chain of 50 names (resolvers give up long before its end).
CNAME_CHAIN_LENGTH = 50
CNAMES: Mapping[str, str] = {
    f"cdn.{TEST_HOST}": f"{TEST_HOST}.cdn.{PRAIRIE.domain}",
    f"{TEST_HOST}.cdn.{PRAIRIE.domain}": TEST_HOST,
    "loop-a.kz": "loop-b.kz",
    "loop-b.kz": "loop-a.kz",
    **{f"hop{n}.deep-chain.kz": f"hop{n + 1}.deep-chain.kz" for n in range(CNAME_CHAIN_LENGTH)},
    f"hop{CNAME_CHAIN_LENGTH}.deep-chain.kz": "kazinfo-news.kz",
}

# Names the DNS server never answers (the client times out).
SILENT_NAMES = frozenset({_UNANSWERED})


def bench_hosts(count: int) -> tuple[Host, ...]:
    """`count` more sites for the jurisdiction benchmark: distinct registered domains spread
    over the providers' networks and the registries (.kz whois, RDAP for the others)."""
    placements = (
        (STEPPE, KZ_NAMES, "kz"),
        (ALTYN, KZ_NAMES, "kz"),
        (VOLGA, RUNET_REG, "ru"),
        (RHEIN, DOMAINWERK, "de"),
        (PRAIRIE, SUMMIT, "com"),
        (POLDER, TULIP, "nl"),
    )
    hosts = []
    for n in range(count):
        provider, registrar, tld = placements[n % len(placements)]
        # .100 upwards of each provider's /24: clear of the hand-made hosts.
        address = str(provider.network[100 + n // len(placements)])
        hosts.append(
            Host(f"bench-site-{n:03d}.{tld}", address, provider, registrar, "hate",
                 {"/": content.HATE_EN})
        )  # fmt: skip
    return tuple(hosts)
