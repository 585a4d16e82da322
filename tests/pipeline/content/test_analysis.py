"""Type sniffing, fingerprints and readable text of fetched bodies (pure, no network)."""

from __future__ import annotations

import hashlib

import pytest

from pipeline.content.analysis import (
    charset_of,
    fingerprint,
    media_type,
    readable,
    sniff,
    type_allowed,
)
from pipeline.sandbox import content as articles
from pipeline.sandbox import media
from pipeline.sandbox.content import Article
from pipeline.sandbox.web import SCRIPT_MARKER, STYLE_MARKER, render_article, render_script_only

PDF = "application/pdf"

ALLOWED = ["text/html", "text/plain", "application/pdf", "image/*", "video/*"]


@pytest.mark.parametrize(
    ("body", "declared", "expected"),
    [
        (media.png("grey"), "text/html", "image/png"),  # the bytes win over the header
        (media.pdf("x"), None, "application/pdf"),
        (media.executable(), "image/jpeg", "application/x-msdownload"),
        (b"\xff\xd8\xff\xe0rest", None, "image/jpeg"),
        (b"GIF89a....", None, "image/gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", None, "image/webp"),
        (b"\x00\x00\x00\x18ftypmp42", None, "video/mp4"),
        (b"  \n<!DOCTYPE html><p>x", "text/plain", "text/html"),
        (b"<HTML><body>x", None, "text/html"),
        (b"just words", "text/plain", "text/plain"),
        (b"\x00\x01\x02", None, "application/octet-stream"),
    ],
)
def test_sniff_trusts_the_bytes_before_the_header(
    body: bytes, declared: str | None, expected: str
) -> None:
    assert sniff(body, declared) == expected


def test_allowed_types_take_families_and_undeclared_types_are_read_to_be_sniffed() -> None:
    assert type_allowed("image/webp", ALLOWED)
    assert type_allowed("text/html", ALLOWED)
    assert not type_allowed("application/zip", ALLOWED)
    assert not type_allowed("application/x-msdownload", ALLOWED)
    assert not type_allowed("text/csv", ALLOWED)
    assert type_allowed(None, ALLOWED)


def test_media_type_and_charset_come_off_the_content_type_header() -> None:
    assert media_type("Text/HTML; charset=UTF-8") == "text/html"
    assert media_type(None) is None and media_type("") is None
    assert charset_of('text/html; charset="koi8-r"') == "koi8-r"
    assert charset_of("text/html") is None


def test_visible_text_leaves_out_scripts_and_styles_and_keeps_the_title() -> None:
    page = render_article(articles.HATE_EN).encode()
    reading = readable(page, "text/html", "text/html; charset=utf-8")
    assert reading is not None
    assert reading.title == articles.HATE_EN.title
    assert articles.HATE_EN.heading in reading.text
    assert SCRIPT_MARKER not in reading.text and STYLE_MARKER not in reading.text
    assert reading.has_script and reading.embeds == 0
    assert "  " not in reading.text and "\n" not in reading.text


def test_a_page_written_by_its_script_has_no_visible_text_before_rendering() -> None:
    reading = readable(render_script_only(articles.GARDEN_EN).encode(), "text/html", None)
    assert reading is not None and reading.text == "" and reading.has_script


@pytest.mark.parametrize(
    "article",
    [articles.NEWS_KK, articles.PYRAMID_KK, articles.DRUGS_RU, articles.SECT_RU, articles.HATE_EN],
    ids=lambda a: a.title[:20],
)
def test_language_of_the_sandbox_pages(article: Article) -> None:
    reading = readable(render_article(article).encode(), "text/html", None)
    assert reading is not None and reading.language == article.lang
    assert reading.language_score is not None and reading.language_score > 0.9


def test_charset_from_header_or_meta_decodes_cyrillic() -> None:
    text = "Купите наркотики быстро и анонимно, доставка по всей стране"
    body = f"<html><head><title>t</title></head><body><p>{text}</p></body></html>"
    in_header = readable(body.encode("koi8-r"), "text/html", "text/html; charset=koi8-r")
    meta = body.replace("<head>", '<head><meta charset="windows-1251">').encode("cp1251")
    in_meta = readable(meta, "text/html", "text/html")
    assert in_header is not None and in_header.text == text and in_header.language == "ru"
    assert in_meta is not None and in_meta.text == text


def test_plain_text_is_read_whole_and_other_types_are_not_read() -> None:
    reading = readable(b"line one\n\n  line two", "text/plain", "text/plain")
    assert reading is not None and reading.text == "line one line two" and reading.title is None
    assert readable(media.png("grey"), "image/png", "image/png") is None


def test_fingerprint_hashes_everything_and_pdq_hashes_images() -> None:
    stripes = media.png("stripes")
    prints = fingerprint(stripes, "image/png")
    assert prints.sha256 == hashlib.sha256(stripes).hexdigest()
    assert prints.md5 == hashlib.md5(stripes).hexdigest()
    assert prints.pdq is not None and len(prints.pdq) == 64
    assert prints.pdq_quality is not None and prints.pdq_quality >= 50
    # A flat grey square has a PDQ hash of no quality.
    assert fingerprint(media.png("grey"), "image/png").pdq_quality == 0
    assert fingerprint(media.pdf("x"), "application/pdf").pdq is None
    broken = fingerprint(b"\x89PNG\r\n\x1a\nnot really", "image/png")
    assert broken.pdq is None and broken.sha256


def test_a_pdf_has_its_text_read() -> None:
    reading = readable(media.pdf("Guaranteed returns of 30 percent per month"), PDF, PDF)
    assert reading is not None and reading.text.startswith("Guaranteed returns")
    assert reading.language == "en"


def test_a_damaged_pdf_has_no_text_and_no_error() -> None:
    assert readable(b"%PDF-1.4\nnot really a pdf", PDF, PDF) is None
