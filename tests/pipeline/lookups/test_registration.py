"""Reading a domain's registration: the .kz registry's whois text and RDAP domain answers."""

from __future__ import annotations

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.lookups.network import network_answer
from pipeline.lookups.registration import (
    kz_whois_registration,
    rdap_registration,
    registration_answer,
)
from pipeline.sandbox import zones
from pipeline.sandbox.whois import whois_text

# The registry's shape, as whois.nic.kz answers (fields padded with dots, its own spellings).
NIC_KZ = """Whois Server for the KZ top level domains.

Domain Name............: example.kz

Organization Using Domain Name
Name...................: Example LLP
Organization Name......: Example LLP
Street Address.........: Dostyk 1
City...................: Almaty
State..................: Almaty
Postal Code............: 050000
Country................: KZ

Administrative Contact/Agent
NIC Handle.............: HOSTER-1
Name...................: Admin
Phone Number...........: +7.7270000000
Fax Number.............: +7.7270000000
Email Address..........: Admin@Example.KZ

Nameserver in listed order

Primary server.........: ns1.hoster.kz
Primary ip address.....: 192.0.2.1

Domain created: 2003-04-15 06:00:00 (GMT+0:00)
Last modified : 2019-03-28 09:58:29 (GMT+0:00)
Domain status : clientTransferProhibited - status prohibits domain transfer
                clientDeleteProhibited - status prohibits domain delete
Registar created: HOSTER.KZ
Current Registar: PS.KZ
"""


def test_the_kz_registry_whois_is_read_field_by_field() -> None:
    facts = kz_whois_registration("example.kz", NIC_KZ)
    assert facts is not None
    assert (facts.registrar, facts.registrant, facts.registrant_country) == (
        "PS.KZ",
        "Example LLP",
        "KZ",
    )
    assert facts.admin_email == "admin@example.kz"
    assert facts.created == "2003-04-15"
    assert facts.status == ["clientTransferProhibited", "clientDeleteProhibited"]


def test_an_unknown_kz_domain_is_a_fact_and_garbage_is_not() -> None:
    unknown = kz_whois_registration("nobody.kz", "Nothing found for this query.\n")
    assert unknown is not None and unknown.registrar is None
    assert kz_whois_registration("x.kz", "\x00\x01 connection limit exceeded") is None


def test_the_sandbox_whois_speaks_the_registry_shape() -> None:
    host = next(h for h in zones.HOSTS if h.name == "kaz-zerkalo-bet.kz")
    facts = kz_whois_registration(host.name, whois_text(host))
    assert facts is not None and facts.registrar == "KZNAMES.KZ"
    assert facts.registrant_country == "KZ"


def test_an_rdap_domain_answer_gives_registrar_abuse_and_registrant_country() -> None:
    document = {
        "objectClassName": "domain",
        "ldhName": "example.com",
        "status": ["client transfer prohibited"],
        "events": [{"eventAction": "registration", "eventDate": "1995-08-14T04:00:00Z"}],
        "entities": [
            {
                "roles": ["registrar"],
                "vcardArray": ["vcard", [["fn", {}, "text", "RESERVED-Internet Assigned"]]],
                "entities": [
                    {
                        "roles": ["abuse"],
                        "vcardArray": ["vcard", [["email", {}, "text", "Abuse@IANA.org"]]],
                    }
                ],
            },
            {
                "roles": ["registrant"],
                "vcardArray": ["vcard", [["adr", {"cc": "us"}, "text", ["", "", "", "", "", ""]]]],
            },
        ],
    }
    facts = rdap_registration("example.com", document)
    assert facts.registrar == "RESERVED-Internet Assigned"
    assert facts.registrar_abuse_email == "abuse@iana.org"
    assert facts.registrant_country == "US"
    assert facts.created == "1995-08-14"
    assert facts.status == ["client transfer prohibited"]


def test_a_garbled_rdap_answer_gives_no_facts_rather_than_an_error() -> None:
    facts = rdap_registration("x.com", {"entities": [1, "two", {"roles": None}], "events": "no"})
    assert facts.registrar is None and facts.created is None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=30,
)
# Documents shaped like RDAP answers, with any value where a registry would put its fields.
rdap_like = st.fixed_dictionaries(
    {},
    optional={
        key: json_values
        for key in ("objectClassName", "handle", "startAddress", "endAddress", "ipVersion",
                    "name", "country", "status", "events", "entities", "ldhName")
    },
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(document=rdap_like | json_values)
def test_no_rdap_answer_makes_a_lookup_raise(document: object) -> None:
    body = orjson.dumps(document)
    network = network_answer("192.0.2.1", {"asn": 64500}, body, "test")
    assert (network.data is None) == (network.error is not None)
    registration = registration_answer("example.com", body, "test")
    assert (registration.data is None) == (registration.error is not None)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=400))
def test_no_whois_text_makes_the_reader_raise(text: str) -> None:
    kz_whois_registration("example.kz", text)


def test_garbage_bytes_are_an_unusable_answer() -> None:
    assert network_answer("192.0.2.1", {}, b"<html>moved</html>", "t").error is not None
    assert registration_answer("x.com", b"\xff\xfe", "t").error is not None
