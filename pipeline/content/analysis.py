"""What a fetched body is: its real type, its fingerprints, and what a reader would see in it.

Pure functions of bytes. `fingerprint` is all that is ever kept of child-abuse material;
`readable` (title, visible text, language) is only computed where the text may be kept.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import re
from dataclasses import dataclass
from functools import cache

import numpy as np
import pdqhash
import pypdf
from PIL import Image, UnidentifiedImageError
from py3langid.langid import MODEL_FILE, LanguageIdentifier
from selectolax.lexbor import LexborHTMLParser

# Leading bytes of the formats a hotline meets most, checked before the declared type: a server
# may call an image text/html, or an executable image/jpeg.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
    (b"\x1f\x8b", "application/gzip"),
    (b"MZ", "application/x-msdownload"),
    (b"\x7fELF", "application/x-executable"),
    (b"\x1aE\xdf\xa3", "video/webm"),
)
_HTML_START = re.compile(rb"^\s*(<!doctype\s+html|<html|<head|<body)", re.IGNORECASE)
_META_CHARSET = re.compile(rb"<meta[^>]+charset=[\"']?([a-zA-Z0-9_-]+)", re.IGNORECASE)
_SPACE = re.compile(r"\s+")
_HIDDEN = "script, style, noscript, template"
_EMBEDS = "img, video, audio, iframe, embed, object, picture"
_TEXT_TYPES = frozenset({"text/html", "application/xhtml+xml", "text/plain"})
_MIN_LANGUAGE_CHARS = 20  # shorter text gives no reliable language
_PDF_PAGES = 50  # pages of a PDF whose text is read: enough to categorise, bounded in time


def media_type(content_type: str | None) -> str | None:
    """`text/html; charset=utf-8` → `text/html`."""
    if not content_type:
        return None
    return content_type.split(";", 1)[0].strip().lower() or None


def type_allowed(mime: str | None, allowed: list[str]) -> bool:
    """Is `mime` one of `allowed` (entries like `image/*` take a whole family)? An undeclared type
    is let through: the body is sniffed once read."""
    if mime is None:
        return True
    family = mime.split("/", 1)[0] + "/*"
    return mime in allowed or family in allowed


def sniff(body: bytes, declared: str | None) -> str:
    """The body's real media type: magic numbers first, then HTML, then what the server said."""
    for magic, mime in _MAGIC:
        if body.startswith(magic):
            return mime
    if body[:12].startswith(b"RIFF") and body[8:12] == b"WEBP":
        return "image/webp"
    if body[4:8] == b"ftyp":
        return "video/mp4"
    if _HTML_START.match(body[:512]):
        return "text/html"
    return declared or "application/octet-stream"


@dataclass(frozen=True)
class Fingerprint:
    """Hashes of the content as hash-sharing programmes exchange them."""

    sha256: str
    md5: str
    pdq: str | None = None  # images only: 256-bit PDQ as 64 hex digits
    pdq_quality: int | None = None  # 0-100; PDQ of flat images is unreliable


def fingerprint(body: bytes, mime: str) -> Fingerprint:
    sha256 = hashlib.sha256(body).hexdigest()
    md5 = hashlib.md5(body, usedforsecurity=False).hexdigest()
    if not mime.startswith("image/"):
        return Fingerprint(sha256, md5)
    perceptual = image_pdq(body)
    if perceptual is None:
        return Fingerprint(sha256, md5)
    return Fingerprint(sha256, md5, *perceptual)


def image_pdq(body: bytes) -> tuple[str, int] | None:
    """PDQ hash and quality of an image, None if it cannot be decoded."""
    try:
        with Image.open(io.BytesIO(body)) as image:
            pixels = np.asarray(image.convert("RGB"))
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
    bits, quality = pdqhash.compute(pixels)
    return np.packbits(bits.astype(np.uint8)).tobytes().hex(), int(quality)


@dataclass(frozen=True)
class Readable:
    """What a person opening the page would read."""

    title: str | None
    text: str  # visible text, whitespace collapsed
    has_script: bool  # the page may only show its text once scripts run
    embeds: int  # images, videos, frames: a page of pictures is not empty
    language: str | None  # ISO 639-1
    language_score: float | None


def readable(body: bytes, mime: str, content_type: str | None) -> Readable | None:
    """Title, visible text and language of an HTML or plain-text body; None for other types.

    The charset comes from the declared content type, else a <meta charset>, else UTF-8.
    """
    if mime == "application/pdf":
        return _pdf_reading(body)
    if mime not in _TEXT_TYPES:
        return None
    decoded = body.decode(_charset(body, charset_of(content_type)), errors="replace")
    if mime == "text/plain":
        return _with_language(None, _collapse(decoded), has_script=False, embeds=0)
    tree = LexborHTMLParser(decoded)
    title_node = tree.css_first("title")
    title = title_node.text(strip=True) if title_node is not None else None
    has_script = tree.css_first("script") is not None
    embeds = len(tree.css(_EMBEDS))
    for node in tree.css(_HIDDEN):
        node.decompose()
    text = _collapse(tree.body.text(separator=" ")) if tree.body is not None else ""
    return _with_language(title or None, text, has_script=has_script, embeds=embeds)


def _pdf_reading(body: bytes) -> Readable | None:
    """The text of a PDF's pages (pypdf), at most `_PDF_PAGES` of them; None if it has none or
    cannot be read (a damaged or encrypted file still has its hashes)."""
    try:
        document = pypdf.PdfReader(io.BytesIO(body))
        title = (document.metadata.title if document.metadata else None) or None
        pages = [page.extract_text() or "" for page in document.pages[:_PDF_PAGES]]
    except Exception:  # pypdf raises many kinds on a damaged file; none may stop the case
        return None
    text = _collapse(" ".join(pages))
    if not text and not title:
        return None
    return _with_language(str(title) if title else None, text, has_script=False, embeds=0)


def visible(text: str) -> str:
    """Text taken from a rendered page, collapsed like the parsed one."""
    return _collapse(text)


def detect_language(text: str) -> tuple[str | None, float | None]:
    if len(text) < _MIN_LANGUAGE_CHARS:
        return None, None
    language, score = _identifier().classify(text[:5000])
    return str(language), round(float(score), 3)


def _with_language(title: str | None, text: str, *, has_script: bool, embeds: int) -> Readable:
    language, score = detect_language(" ".join(filter(None, (title, text))))
    return Readable(title, text, has_script, embeds, language, score)


def charset_of(content_type: str | None) -> str | None:
    """`text/html; charset="koi8-r"` → `koi8-r`."""
    for parameter in (content_type or "").split(";")[1:]:
        key, _, value = parameter.partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip('"') or None
    return None


def _charset(body: bytes, declared: str | None) -> str:
    for candidate in (declared, _meta_charset(body)):
        if candidate:
            try:
                return codecs.lookup(candidate).name
            except LookupError:
                continue
    return "utf-8"


def _meta_charset(body: bytes) -> str | None:
    match = _META_CHARSET.search(body[:2048])
    return match.group(1).decode("ascii") if match else None


def _collapse(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


@cache
def _identifier() -> LanguageIdentifier:
    # Loaded once per process (~0.3 s); normalised scores read as a confidence.
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
