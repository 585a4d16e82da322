"""RFC 3986 path and query normalisation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.urls import normalise_escapes, remove_dot_segments


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
