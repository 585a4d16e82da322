"""Text folded for matching rules, so that spelling tricks and scripts do not hide a word.

Both the evidence and the rule terms are folded the same way, so a term written once matches
its variants: Unicode NFKC and case folding; Latin letters that look like Cyrillic ones, and
digits and signs used for letters (`к4зино`, `c@sino`, `к@з1но`), folded onto one spelling;
Kazakh letters folded onto the Russian letters people type instead (`қазақша` ~ `казакша`);
ё/й/ъ onto е/и/ь; punctuation to spaces; letters spread out with spaces or dots (`к а з и н о`,
`к.а.з.и.н.о`) joined; a letter repeated three times or more (`кааазино`) kept once. The result
is words separated by single spaces, with a space at both ends, so that a rule matches at the
start of a word (its stem: Kazakh and Russian add endings).
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np

# One spelling per look-alike letter. Latin letters map to the Cyrillic ones they imitate; the
# folded text is only ever compared with folded terms, so English words fold consistently too.
_LETTERS = {
    "a": "а", "b": "в", "c": "с", "e": "е", "h": "н", "i": "и", "k": "к", "m": "м",
    "o": "о", "p": "р", "t": "т", "x": "х", "y": "у",
    # digits and signs written for letters
    "0": "о", "1": "и", "3": "з", "4": "а", "6": "б", "@": "а", "$": "s", "5": "s",
    # Kazakh letters, as typed on a Russian keyboard
    "ә": "а", "ғ": "г", "қ": "к", "ң": "н", "ө": "о", "ұ": "у", "ү": "у", "һ": "х", "і": "и",
    # letters often written one for another
    "ё": "е", "й": "и", "ъ": "ь",
}  # fmt: skip
_PUNCTUATION = "".join(
    chr(c)
    for c in range(0x2070)
    if unicodedata.category(chr(c))[0] in "PSZC" and chr(c) not in _LETTERS
)
_TABLE = str.maketrans({**_LETTERS, **dict.fromkeys(_PUNCTUATION, " ")})
# The same table as an array over the Basic Multilingual Plane: a text is folded by one
# vectorised look-up of its code points (str.translate looks each character up in a dict,
# half a millisecond for a 10 KiB page); characters beyond the plane are kept as they are.
_CODES = np.arange(0x10000, dtype=np.uint32)
for _code, _to in _TABLE.items():
    _CODES[_code] = ord(_to)
_SPREAD = re.compile(r"(?: \w){3,}(?= )")  # three or more one-letter words in a row
_REPEATED = re.compile(r"([^\W\d_])\1{2,}")  # a letter three times or more; not 000


def plain(text: str) -> str:
    """The text in NFKC, lower case, its white space collapsed: what regular expressions read."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def fold(text: str, plain_text: str | None = None) -> str:
    """` word word … `: the text as rules see it (`plain_text`: its `plain` form, if made)."""
    folded = _translate(plain(text) if plain_text is None else plain_text)
    folded = " " + " ".join(folded.split()) + " "
    if _REPEATED.search(folded):
        folded = _REPEATED.sub(r"\1", folded)
    if _SPREAD.search(folded):
        folded = _SPREAD.sub(lambda spread: " " + spread.group().replace(" ", ""), folded)
    return folded


def _translate(text: str) -> str:
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    inside = codes < 0x10000
    if inside.all():
        return _CODES[codes].tobytes().decode("utf-32-le", "surrogatepass")
    folded = codes.copy()
    folded[inside] = _CODES[codes[inside]]
    return folded.tobytes().decode("utf-32-le", "surrogatepass")
