"""Hash banks for the sandbox's content, as a hash-sharing programme would send them.

The csam bank lists the csam test host's image (a grey square) by SHA-256 and MD5; the terrorism
bank lists the striped test image by its PDQ hash, so a perceptual match is exercised too.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from pipeline.content.analysis import fingerprint
from pipeline.content.banks import bank_text
from pipeline.sandbox import media
from schemas import Category


def write_banks(directory: Path) -> Path:
    """Write the sandbox's `*.hashes` files into `directory` (created) and return it."""
    directory.mkdir(parents=True, exist_ok=True)
    grey = media.png("grey")
    stripes = fingerprint(media.png("stripes"), "image/png")
    assert stripes.pdq is not None  # a decodable PNG always has one
    csam = bank_text(
        "sandbox-csam",
        Category.csam,
        [
            ("sha256", hashlib.sha256(grey).hexdigest(), "restricted-media.nl/"),
            ("md5", hashlib.md5(grey, usedforsecurity=False).hexdigest(), "restricted-media.nl/"),
        ],
    )
    terrorism = bank_text(
        "sandbox-terrorism", Category.terrorism, [("pdq", stripes.pdq, "sample-site.com/image.png")]
    )
    (directory / "sandbox-csam.hashes").write_text(csam)
    (directory / "sandbox-terrorism.hashes").write_text(terrorism)
    return directory
