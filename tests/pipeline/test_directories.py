"""The directories: every shipped file passes its schema; lookups into them."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.directories import DirectoryFiles, load_directories
from pipeline.runtime.rules import RULES_DIR, RuleFileError
from schemas import Category


def test_the_shipped_directories_pass_their_schemas() -> None:
    directories = load_directories()
    assert directories.home == "KZ"
    assert len(directories.partners.hotlines) >= 30
    assert {cdn.name for cdn in directories.cdns.cdns} >= {"Cloudflare", "Akamai", "Fastly"}
    # Every INHOPE hotline takes child sexual abuse material.
    assert all(Category.csam in h.categories for h in directories.partners.hotlines)


def test_a_partner_is_found_by_country_and_category_and_never_ourselves() -> None:
    directories = load_directories()
    assert directories.partner_for("NL", Category.csam) is not None
    assert directories.partner_for("KZ", Category.csam) is None  # that one is us
    assert directories.partner_for("ZZ", Category.csam) is None


def test_cdns_are_told_by_cname_suffix_or_asn() -> None:
    directories = load_directories()
    found = directories.cdn_by_cname(["www.site.com", "site.com.cdn.cloudflare.net."])
    assert found is not None and found[0].name == "Cloudflare"
    assert directories.cdn_by_cname(["notcdn.cloudflare.net.example"]) is None
    cdn = directories.cdn_by_asn(13335)
    assert cdn is not None and cdn.name == "Cloudflare"


def test_a_broken_directory_stops_the_worker_with_file_and_line(tmp_path: Path) -> None:
    text = (RULES_DIR / "directories" / "domestic.yaml").read_text()
    broken = tmp_path / "domestic.yaml"
    broken.write_text(
        text.replace(
            "channel: email, address: abuse@kznames", "channel: email, address: kznames", 1
        )
    )
    files = DirectoryFiles(domestic_directory=broken)
    with pytest.raises(RuleFileError, match=r"domestic.yaml:\d+: .*email channel"):
        load_directories(files)


def test_a_directory_may_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (RULES_DIR / "directories" / "domestic.yaml").read_text()
    production = tmp_path / "domestic.yaml"
    production.write_text(text.replace('version: "2026.12.1"', 'version: "prod-7"'))
    monkeypatch.setenv("HOTLINE_DOMESTIC_DIRECTORY", str(production))
    assert "domestic prod-7" in load_directories().version
