"""The SSRF guard: which addresses the pipeline may connect to when it checks a reported link.

A reported URL is attacker-controlled. Only public unicast addresses are reachable; private,
loopback, link-local (cloud metadata at 169.254.169.254), multicast, reserved and unspecified
addresses are refused, also when written as an IPv4-mapped IPv6 address or in the numeric forms
browsers accept (`2130706433`, `0x7f.1`, `017700000001`). The only exception is an explicitly
configured network (the sandbox internet in tests and the demo).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network

_NUMERIC_HOST = frozenset("0123456789abcdefx.")
_DOTTED_DECIMAL = frozenset("0123456789.")


def host_address(host: str) -> Address | None:
    """The address a URL host denotes when it is an IP literal in any form, else None."""
    literal = host.strip("[]")
    lowered = literal.lower()
    # Only a literal with a colon (IPv6) or of digits and dots (IPv4) can parse: a host name
    # is not tried, which saved content-check a raised ValueError per hop (5 % of its CPU).
    if ":" in literal or set(literal) <= _DOTTED_DECIMAL:
        try:
            return ipaddress.ip_address(literal)
        except ValueError:
            pass
    # inet_aton takes what browsers and libc take: 127.1, 0x7f000001, 2130706433, 0177.0.0.1.
    if lowered and set(lowered) <= _NUMERIC_HOST and lowered[0].isdigit():
        try:
            return IPv4Address(socket.inet_aton(lowered))
        except OSError:
            return None
    return None


def refusal(address: Address, allowed: Sequence[Network] = ()) -> str | None:
    """Why `address` must not be contacted, or None when it may be."""
    if isinstance(address, IPv6Address):
        mapped = address.ipv4_mapped or address.sixtofour
        if mapped is not None:
            return refusal(mapped, allowed)
    if any(address in network for network in allowed):
        return None
    for reason, flagged in (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link_local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
    ):
        if flagged:
            return reason
    if not address.is_global:
        return "not_public"
    return None
