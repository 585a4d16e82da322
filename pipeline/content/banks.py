"""Known-content hash banks, one per category, as hash-sharing programmes distribute them.

A bank is a text file `NAME.hashes` (format in README):

    # bank: gifct-sample        (optional; default: the file name without .hashes)
    # category: terrorism       (required: a report category)
    sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
    md5 098f6bcd4621d373cade4e832627b4f6   anything after the hash is a note
    pdq f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22

SHA-256 and MD5 match exactly; PDQ matches within a Hamming distance, and only for images of
enough quality (a flat image's PDQ says little). A malformed bank stops the worker at start with
the file and line: matching against half a bank would miss content silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.content.analysis import Fingerprint
from pipeline.runtime.stage import SetupError
from schemas import Category, HashMatch, HashSignal

_HEX_LENGTH: dict[HashSignal, int] = {"sha256": 64, "md5": 32, "pdq": 64}
_HEADER = re.compile(r"^#\s*(bank|category)\s*:\s*(\S+)\s*$", re.IGNORECASE)
_HEX = re.compile(r"^[0-9a-f]+$")


class BankError(SetupError):
    """A hash bank file that cannot be read, with where."""


@dataclass(frozen=True)
class Bank:
    name: str
    category: Category
    exact: frozenset[tuple[HashSignal, str]]
    pdq: np.ndarray  # shape (n, 32), uint8: one 256-bit hash per row


def load_bank(path: Path) -> Bank:
    name, category = path.stem, None
    exact: set[tuple[HashSignal, str]] = set()
    pdq_rows: list[bytes] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        header = _HEADER.match(line)
        if header:
            key, value = header.group(1).lower(), header.group(2)
            if key == "bank":
                name = value
            else:
                try:
                    category = Category(value.lower())
                except ValueError:
                    raise BankError(f"{path}:{number}: unknown category {value!r}") from None
            continue
        if not line or line.startswith("#"):
            continue
        signal, value = _entry(path, number, line)
        if signal == "pdq":
            pdq_rows.append(bytes.fromhex(value))
        else:
            exact.add((signal, value))
    if category is None:
        raise BankError(f"{path}: no '# category: ...' line")
    pdq = np.frombuffer(b"".join(pdq_rows), dtype=np.uint8).reshape(-1, 32)
    return Bank(name, category, frozenset(exact), pdq)


def _entry(path: Path, number: int, line: str) -> tuple[HashSignal, str]:
    parts = line.split()
    if len(parts) < 2:
        raise BankError(f"{path}:{number}: expected '<sha256|md5|pdq> <hex>'")
    value = parts[1].lower()
    for signal, length in _HEX_LENGTH.items():
        if parts[0].lower() == signal:
            if len(value) != length or not _HEX.match(value):
                raise BankError(f"{path}:{number}: a {signal} hash is {length} hex digits")
            return signal, value
    raise BankError(f"{path}:{number}: unknown hash type {parts[0]!r}")


class HashBanks:
    """Every configured bank; `match` tells which ones hold a piece of content."""

    def __init__(self, banks: list[Bank], max_distance: int, min_quality: int) -> None:
        self.banks = banks
        self._max_distance = max_distance
        self._min_quality = min_quality

    @classmethod
    def load(cls, paths: list[Path], max_distance: int = 31, min_quality: int = 50) -> HashBanks:
        files: list[Path] = []
        for path in paths:
            if path.is_dir():
                files.extend(sorted(path.glob("*.hashes")))
            elif path.is_file():
                files.append(path)
            else:
                raise BankError(f"{path}: no such hash bank file or directory")
        return cls([load_bank(f) for f in files], max_distance, min_quality)

    def __len__(self) -> int:
        return sum(len(bank.exact) + len(bank.pdq) for bank in self.banks)

    def match(self, print_: Fingerprint, url: str) -> list[HashMatch]:
        matches = []
        exact: tuple[tuple[HashSignal, str], ...] = (("sha256", print_.sha256), ("md5", print_.md5))
        for bank in self.banks:
            for signal, value in exact:
                if (signal, value) in bank.exact:
                    matches.append(_match(bank, signal, 0, url))
            distance = self._pdq_distance(bank, print_)
            if distance is not None:
                matches.append(_match(bank, "pdq", distance, url))
        return matches

    def _pdq_distance(self, bank: Bank, print_: Fingerprint) -> int | None:
        """The nearest of the bank's PDQ hashes, if near enough to count as the same image."""
        if print_.pdq is None or len(bank.pdq) == 0:
            return None
        if (print_.pdq_quality or 0) < self._min_quality:
            return None
        probe = np.frombuffer(bytes.fromhex(print_.pdq), dtype=np.uint8)
        distances = np.unpackbits(bank.pdq ^ probe, axis=1).sum(axis=1)
        nearest = int(distances.min())
        return nearest if nearest <= self._max_distance else None


def _match(bank: Bank, signal: HashSignal, distance: int, url: str) -> HashMatch:
    return HashMatch(
        bank=bank.name, category=bank.category, signal=signal, distance=distance, url=url
    )


def bank_text(name: str, category: Category, entries: list[tuple[HashSignal, str, str]]) -> str:
    """A bank file's text: the format `load_bank` reads, for tools that write banks."""
    lines = [f"# bank: {name}", f"# category: {category.value}"]
    lines += [f"{signal} {value}  {note}".rstrip() for signal, value, note in entries]
    return "\n".join(lines) + "\n"
