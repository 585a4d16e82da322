"""`hotline demo`: the samples through every built stage against the sandbox, on the session's
broker, and the table of how each case ended."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from pipeline.cli.stack import SAMPLES
from pipeline.config import Settings
from pipeline.content.screenshots import find_chromium
from tests.fixtures.stage import ROOT

pytestmark = pytest.mark.broker


def test_demo_runs_every_sample_to_its_end(pipeline_bootstrap: str, tmp_path: Path) -> None:
    env = {**os.environ, "HOTLINE_BOOTSTRAP": pipeline_bootstrap, "HOTLINE_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "demo", "--json", "--timeout", "150"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    cases = [json.loads(line) for line in done.stdout.splitlines()]
    samples = SAMPLES.read_text().splitlines()
    assert len(cases) == len(samples) and all(case["finished"] for case in cases)
    ended_early = sorted((c["stage"], c["reason"]) for c in cases if c["outcome"] == "terminated")
    assert ended_early == [
        ("categorize", "not_illegal"),
        ("content-check", "content_removed"),
        ("url-verify", "not_found"),
    ]
    went_on = [c for c in cases if c["outcome"] == "continue"]
    assert {c["stage"] for c in went_on} == {"dispatch"}
    assert sorted(c["verdict"] for c in went_on) == ["confirmed"] * 12 + ["corrected"]
    [waiting] = [c for c in cases if c["outcome"] == "review"]
    assert waiting["category"] == "terrorism"  # always seen by a person
    by_link = {(urlsplit(c["url"]).hostname, urlsplit(c["url"]).path): c for c in cases}
    csam = by_link["restricted-media.nl", "/"]
    assert csam["kept"] == ["hashes only (csam)"] and csam["hash_banks"] == ["sandbox-csam"]
    assert by_link["sample-site.com", "/image.png"]["hash_banks"] == ["sandbox-terrorism"]
    assert by_link["hate-forum.de", "/"]["kept"] == ["evidence"] + (
        ["screenshot"] if find_chromium(Settings()) else []
    )
    assert (tmp_path / "sandbox-banks" / "sandbox-csam.hashes").exists()
    where = {
        host: (c["jurisdiction"], c["country"], c["rule"])
        for (host, _), c in by_link.items()
        if c["outcome"] == "continue"
    }
    assert where == {
        "best-casino.kz": ("domestic", "KZ", "home_tld"),
        "crypto-pyramid.kz": ("domestic", "KZ", "home_tld"),
        "kaz-zerkalo-bet.kz": ("domestic", "KZ", "home_tld"),  # hosted in Germany
        "xn--80aaqw4fuxvb.xn--80ao21a": ("domestic", "KZ", "home_tld"),
        "shop-drugs.ru": ("foreign", "RU", "hosted_abroad"),
        "hate-forum.de": ("foreign", "DE", "hosted_abroad"),
        "sample-site.com": ("foreign", "US", "hosted_abroad"),
        "restricted-media.nl": ("foreign", "NL", "hosted_abroad"),
        "127.1.4.20": ("foreign", "DE", "hosted_abroad"),
        "shop.hidden-market.com": ("unknown", None, "cdn_fronted"),
        "kz-invest-club.wixsite.com": ("foreign", "US", "platform_user_site"),
        "www.tiktok.com": ("domestic", "KZ", "platform_with_domestic_representative"),
    }
    csam_to = {r["kind"]: r["name"] for r in by_link["restricted-media.nl", "/"]["recipients"]}
    assert csam_to["partner_hotline"] == "Meldpunt Kinderporno"
    assert by_link["shop.hidden-market.com", "/"]["recipients"][-1]["name"] == "Cloudflare"
    # Every dispatched case sent notices: mailed ones reached the sandbox's SMTP sink once,
    # forms wait for a person.
    notices = [n for c in went_on for n in c["notices"]]
    assert all(c["notices"] for c in went_on)
    assert {n["status"] for n in notices} == {"delivered", "manual"}
    assert all(n["at_sink"] == (n["status"] == "delivered") for n in notices)
    csam_notices = {
        (n["kind"], n["recipient"]) for n in by_link["restricted-media.nl", "/"]["notices"]
    }
    assert ("criminal_referral", "law_enforcement") in csam_notices
    tiktok = by_link["www.tiktok.com", "/@class9b_gossip/video/7301"]["notices"]
    assert tiktok[0]["address"].startswith("kz-representative@")
    # The ledger holds every case, its chain intact, and what its reporter sees.
    seen = {c["outcome"]: c["ledger"]["status"] for c in cases}
    assert seen == {"continue": "forwarded", "terminated": "closed", "review": "checking"}
    assert all(c["ledger"]["intact"] and c["ledger"]["entries"] >= 2 for c in cases)
