"""A host read against the public suffix list: registered domain, suffix, user subdomains.

tldextract with its bundled snapshot only: it never downloads the list, never writes a cache.
Private suffixes (the PSL's platform section: `github.io`, `blogspot.com`) are included, so
`someone.github.io` is someone's site on GitHub, not GitHub's.
"""

from __future__ import annotations

from functools import lru_cache
from ipaddress import ip_address

import tldextract

from schemas.jurisdiction import DomainFacts

_EXTRACT = tldextract.TLDExtract(
    suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True
)


def _unicode(host: str) -> str:
    try:
        return host.encode("ascii").decode("idna")
    except UnicodeError:
        return host


@lru_cache(maxsize=65_536)
def domain_facts(host: str) -> DomainFacts:
    """`host` is the normalised (lower-case, punycode) host of a URL, or an IP literal."""
    host = host.strip("[]").rstrip(".")
    try:
        ip_address(host)
    except ValueError:
        pass
    else:
        return DomainFacts(
            host=host,
            unicode_host=host,
            ip_literal=True,
            registered_domain=None,
            suffix=None,
            tld=None,
            private_suffix=False,
            idn=False,
        )
    # tldextract matches the snapshot's Unicode entries, so it reads the Unicode form.
    unicode_host = _unicode(host)
    parts = _EXTRACT(unicode_host)
    registered = parts.top_domain_under_public_suffix or None
    suffix = parts.suffix or None
    return DomainFacts(
        host=host,
        unicode_host=unicode_host,
        ip_literal=False,
        registered_domain=registered.encode("idna").decode() if registered else None,
        suffix=suffix.encode("idna").decode() if suffix else None,
        tld=host.rsplit(".", 1)[-1] if "." in host else None,
        private_suffix=parts.is_private,
        idn=unicode_host != host,
    )
