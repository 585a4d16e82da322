"""A host against the public suffix list, offline."""

from __future__ import annotations

import pytest

from pipeline.lookups.names import domain_facts


@pytest.mark.parametrize(
    ("host", "registered", "suffix", "private"),
    [
        ("news.kazinfo.kz", "kazinfo.kz", "kz", False),
        ("shop.example.com.kz", "example.com.kz", "com.kz", False),
        ("someone.github.io", "someone.github.io", "github.io", True),
        ("xn--80aaqw4fuxvb.xn--80ao21a", "xn--80aaqw4fuxvb.xn--80ao21a", "xn--80ao21a", False),
    ],
)
def test_registered_domain_and_suffix(
    host: str, registered: str, suffix: str, private: bool
) -> None:
    facts = domain_facts(host)
    assert (facts.registered_domain, facts.suffix, facts.private_suffix) == (
        registered,
        suffix,
        private,
    )


def test_an_idn_keeps_both_forms() -> None:
    facts = domain_facts("xn--80aaqw4fuxvb.xn--80ao21a")
    assert facts.idn and facts.unicode_host == "жаңалық.қаз" and facts.tld == "xn--80ao21a"


@pytest.mark.parametrize("host", ["127.1.4.20", "2001:db8::1", "[2001:db8::1]"])
def test_an_ip_literal_has_no_domain(host: str) -> None:
    facts = domain_facts(host)
    assert facts.ip_literal and facts.registered_domain is None and facts.tld is None
