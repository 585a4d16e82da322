"""RFC 3986 path and query normalisation."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.lookups.urls import UrlProblem, normalise_escapes, normalise_url, remove_dot_segments
from schemas import RejectionReason


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/a/b/c/./../../g", "/a/g"),  # RFC 3986 5.2.4's example
        ("/a/./b/../c", "/a/c"),
        ("/a/b/..", "/a/"),
        ("/a/b/.", "/a/b/"),
        ("/../x", "/x"),
        ("/x/..", "/"),
        ("/a//b", "/a//b"),
        ("/", "/"),
        ("", "/"),
    ],
)
def test_dot_segments(path: str, expected: str) -> None:
    assert remove_dot_segments(path) == expected


@pytest.mark.parametrize(
    ("component", "expected"),
    [
        ("/%7euser/%2fx", "/~user/%2Fx"),
        ("/путь", "/%D0%BF%D1%83%D1%82%D1%8C"),
        ("/a%zz%", "/a%25zz%25"),
        ('q=a"<>', "q=a%22%3C%3E"),
        ("x=%e2%82%ac&y=(1)", "x=%E2%82%AC&y=(1)"),
    ],
)
def test_escapes(component: str, expected: str) -> None:
    assert normalise_escapes(component) == expected


@given(st.text(max_size=80))
def test_normalising_twice_changes_nothing(text: str) -> None:
    once = normalise_escapes(text)
    assert once.isascii() and normalise_escapes(once) == once
    path = remove_dot_segments("/" + once)
    assert remove_dot_segments(path) == path


@pytest.mark.parametrize(
    ("given_url", "expected"),
    [
        ("HTTPS://Example.KZ/Path?Q=1#frag", "https://example.kz/Path?Q=1"),
        ("http://example.kz:80/a", "http://example.kz/a"),
        ("https://example.kz:443", "https://example.kz/"),
        ("https://example.kz:8443/a", "https://example.kz:8443/a"),
        ("https://Пример.Қаз/жол", "https://xn--e1afmkfd.xn--80ao21a/%D0%B6%D0%BE%D0%BB"),
        ("https://example.kz/%d0%b6%D0%BE%d0%bb", "https://example.kz/%D0%B6%D0%BE%D0%BB"),
        ("https://example.kz/%7Euser/%41?q=%2f%7e", "https://example.kz/~user/A?q=%2F~"),
        ("https://example.kz/a/./b/../c?x=1", "https://example.kz/a/c?x=1"),
        ("https://example.kz/a/%2E%2E/b", "https://example.kz/b"),
        ("https://example.kz/100%/<b>", "https://example.kz/100%25/%3Cb%3E"),
        ("https://user:secret@example.kz/x", "https://example.kz/x"),
        ("https://example.kz./x", "https://example.kz/x"),
        ("http://[2001:DB8::1]:8080/x", "http://[2001:db8::1]:8080/x"),
        ("  https://example.kz/trim  ", "https://example.kz/trim"),
    ],
)
def test_normalise_url(given_url: str, expected: str) -> None:
    assert normalise_url(given_url).url == expected


@pytest.mark.parametrize(
    ("given_url", "reason"),
    [
        ("javascript:alert(1)", RejectionReason.url_scheme_not_allowed),
        ("file:///etc/passwd", RejectionReason.url_scheme_not_allowed),
        ("data:text/html,<b>x</b>", RejectionReason.url_scheme_not_allowed),
        ("ftp://example.kz/x", RejectionReason.url_scheme_not_allowed),
        ("example.kz/no-scheme", RejectionReason.url_scheme_not_allowed),
        ("https://", RejectionReason.url_invalid),
        ("https://exa mple.kz/", RejectionReason.url_invalid),
        ("https://example.kz:99999/", RejectionReason.url_invalid),
        ("https://[::zz]/", RejectionReason.url_invalid),
        ("https://" + "a" * 64 + ".kz/", RejectionReason.url_invalid),
        ("https://example.kz/" + "a" * 2048, RejectionReason.url_too_long),
        ("", RejectionReason.missing_url),
    ],
)
def test_bad_urls_have_a_reason(given_url: str, reason: RejectionReason) -> None:
    with pytest.raises(UrlProblem) as caught:
        normalise_url(given_url)
    assert caught.value.reason == reason


@given(st.text(max_size=300))
@settings(max_examples=400)
def test_normalise_url_never_fails_unexpectedly(text: str) -> None:
    try:
        result = normalise_url(text)
    except UrlProblem as problem:
        assert problem.message
        return
    assert result.url.startswith(("http://", "https://"))
    assert "#" not in result.url
    assert result.host.isascii()
    assert normalise_url(result.url) == result  # idempotent


@given(
    host=st.from_regex(r"[a-z][a-z0-9-]{0,20}\.(kz|ru|com|org)", fullmatch=True),
    path=st.from_regex(r"(/[A-Za-z0-9_~-][A-Za-z0-9._~-]{0,11}){0,4}", fullmatch=True),
    query=st.from_regex(r"([a-z]{1,5}=[A-Za-z0-9]{0,6}&?){0,3}", fullmatch=True),
)
def test_case_of_scheme_and_host_does_not_matter(host: str, path: str, query: str) -> None:
    suffix = path + ("?" + query if query else "")
    lower = normalise_url(f"https://{host}{suffix}")
    upper = normalise_url(f"HTTPS://{host.upper()}{suffix}#x")
    assert lower == upper
    assert lower.url.endswith(suffix or "/")
