"""The SSRF guard refuses every non-public address, in every spelling, unless allowed."""

from __future__ import annotations

from ipaddress import IPv4Address, ip_address, ip_network

import pytest

from pipeline.lookups.guard import host_address, refusal

SANDBOX = [ip_network("127.1.0.0/16")]


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("[::ffff:127.0.0.1]", "::ffff:127.0.0.1"),
        ("169.254.169.254", "169.254.169.254"),
        ("93.184.216.34", "93.184.216.34"),
    ],
)
def test_numeric_hosts_are_read_as_addresses(host: str, address: str) -> None:
    assert host_address(host) == ip_address(address)


@pytest.mark.parametrize("host", ["example.kz", "0day.kz", "1.example", "deadbeef.com", ""])
def test_names_are_not_addresses(host: str) -> None:
    assert host_address(host) is None


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.1.2.3", "private"),
        ("2002:7f00:1::", "loopback"),  # 6to4 wrapping 127.0.0.1
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("fd00:ec2::254", "private"),
        ("169.254.169.254", "link_local"),
        ("fe80::1", "link_local"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("100.64.0.1", "not_public"),  # carrier-grade NAT
    ],
)
def test_non_public_addresses_are_refused(address: str, reason: str) -> None:
    assert refusal(ip_address(address)) == reason


def test_public_addresses_pass() -> None:
    assert refusal(ip_address("93.184.216.34")) is None
    assert refusal(ip_address("2a00:1450:4001:80b::200e")) is None


def test_the_allowed_network_opens_only_itself() -> None:
    assert refusal(IPv4Address("127.1.0.10"), SANDBOX) is None
    assert refusal(IPv4Address("127.0.0.1"), SANDBOX) == "loopback"
    assert refusal(ip_address("::ffff:127.1.0.10"), SANDBOX) is None
