"""RFC 3986 normalisation of a URL's path and query, so that one resource reported in different
spellings is one URL: the same case key for repeats, the same request for the checks."""

from __future__ import annotations

import string

_HEX = frozenset(string.hexdigits)
_UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")
# Characters a path or query may hold as they are (RFC 3986 pchar, plus "/" and "?").
_KEPT = _UNRESERVED | frozenset("!$&'()*+,;=:@/?")


def normalise_escapes(component: str) -> str:
    """Percent-encoding made canonical (RFC 3986 6.2.2): escapes of unreserved characters
    decoded (`%7E` → `~`), other escapes upper-cased (`%2f` → `%2F`), anything a URL may not
    hold raw (non-ASCII, `<`, `"`, a stray `%`…) encoded as UTF-8."""
    out: list[str] = []
    i = 0
    while i < len(component):
        char = component[i]
        pair = component[i + 1 : i + 3]
        if char == "%" and len(pair) == 2 and set(pair) <= _HEX:
            decoded = chr(int(pair, 16))
            out.append(decoded if decoded in _UNRESERVED else f"%{pair.upper()}")
            i += 3
            continue
        raw = char.encode("utf-8", "surrogatepass")  # a lone surrogate still gets a spelling
        out.append(char if char in _KEPT else "".join(f"%{b:02X}" for b in raw))
        i += 1
    return "".join(out)


def remove_dot_segments(path: str) -> str:
    """`/a/./b/../c` → `/a/c` (RFC 3986 5.2.4), as a browser resolves it."""
    segments = path.split("/")
    kept: list[str] = []
    for segment in segments:
        if segment == "..":
            if len(kept) > 1:
                kept.pop()
        elif segment != ".":
            kept.append(segment)
    if segments[-1] in (".", ".."):
        kept.append("")  # `/a/b/..` names the directory `/a/`
    return "/".join(kept) or "/"
