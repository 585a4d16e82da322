"""URL rules: what a reported link may be, and its one normal spelling (RFC 3986), so that one
resource reported in different spellings is one URL: the same case key for repeats, the same
request for the checks."""

from __future__ import annotations

import ipaddress
import re
import string
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import idna

from schemas import RejectionReason
from schemas.report import MAX_URL_LENGTH

_HEX = frozenset(string.hexdigits)
_UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")
# Characters a path or query may hold as they are (RFC 3986 pchar, plus "/" and "?").
_KEPT = _UNRESERVED | frozenset("!$&'()*+,;=:@/?")
# A component made only of those (no "%" at all) is already canonical: the common case.
_ALL_KEPT = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/?]*")


def normalise_escapes(component: str) -> str:
    """Percent-encoding made canonical (RFC 3986 6.2.2): escapes of unreserved characters
    decoded (`%7E` → `~`), other escapes upper-cased (`%2f` → `%2F`), anything a URL may not
    hold raw (non-ASCII, `<`, `"`, a stray `%`…) encoded as UTF-8."""
    if _ALL_KEPT.fullmatch(component):
        return component
    out: list[str] = []
    i = 0
    while i < len(component):
        char = component[i]
        pair = component[i + 1 : i + 3]
        if char == "%" and len(pair) == 2 and set(pair) <= _HEX:
            decoded = chr(int(pair, 16))
            out.append(decoded if decoded in _UNRESERVED else f"%{pair.upper()}")
            i += 3
            continue
        raw = char.encode("utf-8", "surrogatepass")  # a lone surrogate still gets a spelling
        out.append(char if char in _KEPT else "".join(f"%{b:02X}" for b in raw))
        i += 1
    return "".join(out)


def remove_dot_segments(path: str) -> str:
    """`/a/./b/../c` → `/a/c` (RFC 3986 5.2.4), as a browser resolves it."""
    segments = path.split("/")
    kept: list[str] = []
    for segment in segments:
        if segment == "..":
            if len(kept) > 1:
                kept.pop()
        elif segment != ".":
            kept.append(segment)
    if segments[-1] in (".", ".."):
        kept.append("")  # `/a/b/..` names the directory `/a/`
    return "/".join(kept) or "/"


@dataclass(frozen=True)
class NormalisedUrl:
    url: str
    host: str


class UrlProblem(ValueError):
    def __init__(self, reason: RejectionReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


_DEFAULT_PORTS = {"http": 80, "https": 443}
_ASCII_LABEL = re.compile(r"[a-z0-9_-]{1,63}")
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")


def normalise_url(text: str) -> NormalisedUrl:
    """Lower-case scheme and host, IDN to punycode, no default port, no fragment, no userinfo,
    percent-encoding made canonical and dot segments resolved in the path (pipeline/urls.py).

    Otherwise path and query are kept as given: their case and order are the site's to interpret.
    """
    if len(text) > MAX_URL_LENGTH:
        raise UrlProblem(
            RejectionReason.url_too_long, f"The URL is longer than {MAX_URL_LENGTH} characters."
        )
    candidate = text.strip()
    if not candidate:
        raise UrlProblem(RejectionReason.missing_url, "The report has no URL.")
    if _SPACE_OR_CONTROL.search(candidate):
        raise UrlProblem(
            RejectionReason.url_invalid, "The URL contains spaces or control characters."
        )
    try:
        parts = urlsplit(candidate)
        port = parts.port
    except ValueError as error:
        raise UrlProblem(RejectionReason.url_invalid, f"The URL cannot be read: {error}.") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        shown = f"{scheme}:" if scheme else "a link without http:// or https://"
        raise UrlProblem(
            RejectionReason.url_scheme_not_allowed,
            f"Only http and https links can be checked, not {shown}.",
        )
    host = ascii_host(parts.hostname or "")
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    path = remove_dot_segments(normalise_escapes(parts.path or "/"))
    url = urlunsplit((scheme, netloc, path, normalise_escapes(parts.query), ""))
    if len(url) > MAX_URL_LENGTH:
        raise UrlProblem(
            RejectionReason.url_too_long,
            f"The URL is longer than {MAX_URL_LENGTH} characters once normalised.",
        )
    return NormalisedUrl(url=url, host=host)


def ascii_host(hostname: str) -> str:
    host = hostname.rstrip(".").lower()
    if not host:
        raise UrlProblem(RejectionReason.url_invalid, "The URL has no host name.")
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host).compressed
        except ValueError:
            raise UrlProblem(
                RejectionReason.url_invalid, "The URL has a malformed IPv6 address."
            ) from None
    if host.isascii():
        # Accept what resolvers accept (underscores, edge hyphens exist in the wild); IDNA's
        # stricter rules would reject real sites.
        labels = host.split(".")
        if len(host) > 253 or not all(_ASCII_LABEL.fullmatch(label) for label in labels):
            raise UrlProblem(RejectionReason.url_invalid, f"The host name {host!r} is not valid.")
        for label in labels:
            if label.startswith("xn--") and not _valid_punycode(label):
                raise UrlProblem(
                    RejectionReason.url_invalid,
                    f"The host name {host!r} has a label that is not valid punycode.",
                )
        return host
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError) as error:
        raise UrlProblem(
            RejectionReason.url_invalid, f"The host name {host!r} is not valid: {error}."
        ) from None


def _valid_punycode(label: str) -> bool:
    """An `xn--` label must decode to a valid IDNA label, or it names nothing a resolver knows."""
    try:
        idna.decode(label)
    except (idna.IDNAError, UnicodeError):
        return False
    return True
