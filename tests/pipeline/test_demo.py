"""`hotline demo`: the samples through every built stage against the sandbox, on the session's
broker, and the table of how each case ended."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.stack import SAMPLES
from tests.fixtures.stage import ROOT

pytestmark = pytest.mark.broker


def test_demo_runs_every_sample_to_its_end(pipeline_bootstrap: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "demo", "--timeout", "150"],
        cwd=ROOT,
        env={
            **os.environ,
            "HOTLINE_BOOTSTRAP": pipeline_bootstrap,
            "HOTLINE_DATA_DIR": str(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    table = done.stdout
    samples = [json.loads(line) for line in SAMPLES.read_text().splitlines()]
    assert table.count("HL-") == len(samples)
    assert table.count("through content-check") == len(samples) - 2
    assert "url-verify: not_found" in table and "content-check:" in table
    assert "content_removed" in table
    assert "hashes only (csam)" in table and "sandbox-terrorism" in table
    assert (tmp_path / "sandbox-banks" / "sandbox-csam.hashes").exists()
