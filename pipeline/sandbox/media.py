"""Binary sample files made in code: PNG images (zlib + struct, no Pillow), a hand-written PDF
and the header of a program.

Generated rather than shipped so the repository holds no binary fixtures and the bytes are
deterministic (the same hash on every run).
"""

from __future__ import annotations

import struct
import zlib
from functools import cache
from typing import Literal

PngPattern = Literal["grey", "stripes"]

_SIZE = 64
_GREY = (128, 128, 128)
_STRIPES = ((200, 60, 40), (240, 200, 60), (60, 140, 90), (50, 90, 180))


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@cache
def png(pattern: PngPattern) -> bytes:
    """A 64x64 RGB PNG: flat grey (a neutral placeholder) or coloured vertical stripes."""
    row = bytearray()
    for x in range(_SIZE):
        row += bytes(_GREY if pattern == "grey" else _STRIPES[x * len(_STRIPES) // _SIZE])
    # Each scanline starts with filter type 0 (none).
    raw = (b"\x00" + bytes(row)) * _SIZE
    header = struct.pack(">IIBBBBB", _SIZE, _SIZE, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw))
        + _chunk(b"IEND", b"")
    )


def executable() -> bytes:
    """The first bytes of a Windows program (an "MZ" header), padded: a file that is not media."""
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + bytes(502)


@cache
def pdf(text: str) -> bytes:
    """A one-page PDF showing one line of ASCII text, with a correct cross-reference table."""
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    stream = f"BT /F1 14 Tf 72 720 Td ({escaped}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref_at,
    )
    return bytes(out)
