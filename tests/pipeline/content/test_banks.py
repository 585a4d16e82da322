"""Hash banks: the file format, exact and perceptual matching."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.content.analysis import Fingerprint, fingerprint
from pipeline.content.banks import BankError, HashBanks, bank_text
from pipeline.sandbox import media
from pipeline.sandbox.banks import write_banks
from schemas import Category

URL = "http://example.kz/x"
STRIPES = fingerprint(media.png("stripes"), "image/png")


def flipped(pdq: str, bits: int) -> str:
    """`pdq` with its first `bits` bits inverted."""
    value = int(pdq, 16) ^ (((1 << bits) - 1) << (256 - bits))
    return f"{value:064x}"


def bank(tmp_path: Path, text: str, name: str = "bank.hashes") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_the_sandbox_banks_match_their_images_exactly_and_perceptually(tmp_path: Path) -> None:
    banks = HashBanks.load([write_banks(tmp_path)])
    grey = banks.match(fingerprint(media.png("grey"), "image/png"), URL)
    assert {(m.bank, m.category, m.signal) for m in grey} == {
        ("sandbox-csam", Category.csam, "sha256"),
        ("sandbox-csam", Category.csam, "md5"),
    }
    [stripes] = banks.match(STRIPES, URL)
    assert (stripes.category, stripes.signal, stripes.distance) == (Category.terrorism, "pdq", 0)
    assert banks.match(fingerprint(media.pdf("x"), "application/pdf"), URL) == []
    assert len(banks) == 3


def test_pdq_matches_within_the_distance_and_only_for_images_of_quality(tmp_path: Path) -> None:
    assert STRIPES.pdq is not None
    path = bank(tmp_path, bank_text("b", Category.hate, [("pdq", STRIPES.pdq, "")]))
    banks = HashBanks.load([path], max_distance=31, min_quality=50)
    near = Fingerprint("0" * 64, "0" * 32, flipped(STRIPES.pdq, 31), 80)
    far = Fingerprint("0" * 64, "0" * 32, flipped(STRIPES.pdq, 32), 80)
    flat = Fingerprint("0" * 64, "0" * 32, STRIPES.pdq, 10)
    assert [m.distance for m in banks.match(near, URL)] == [31]
    assert banks.match(far, URL) == []
    assert banks.match(flat, URL) == []


def test_a_directory_loads_every_bank_file_and_headers_name_them(tmp_path: Path) -> None:
    bank(
        tmp_path,
        "# shared by a partner programme\n# bank: partner-42\n# Category: Hate\n\n"
        f"MD5 {'AB' * 16}   note after the hash\n",
        "one.hashes",
    )
    bank(tmp_path, f"# category: drugs\nsha256 {'cd' * 32}\n", "two.hashes")
    bank(tmp_path, "not a bank", "readme.txt")  # ignored: not *.hashes
    banks = HashBanks.load([tmp_path])
    assert [(b.name, b.category) for b in banks.banks] == [
        ("partner-42", Category.hate),
        ("two", Category.drugs),
    ]
    [found] = banks.match(Fingerprint("cd" * 32, "0" * 32), URL)
    assert (found.bank, found.signal) == ("two", "sha256")
    assert banks.match(Fingerprint("0" * 64, "ab" * 16), URL)[0].bank == "partner-42"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (f"sha256 {'a' * 64}\n", "no '# category"),
        ("# category: weather\n", "unknown category"),
        ("# category: hate\nsha1 abc\n", "unknown hash type"),
        ("# category: hate\nmd5 abc\n", "32 hex digits"),
        (f"# category: hate\npdq {'z' * 64}\n", "64 hex digits"),
        ("# category: hate\nsha256\n", "expected"),
    ],
)
def test_a_malformed_bank_is_refused_with_file_and_line(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = bank(tmp_path, text)
    with pytest.raises(BankError, match=problem) as refused:
        HashBanks.load([path])
    assert str(path) in str(refused.value)


def test_a_missing_bank_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BankError, match="no such"):
        HashBanks.load([tmp_path / "absent.hashes"])
