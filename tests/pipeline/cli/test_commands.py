"""A user's mistakes on the command line: one clear line and exit code 1, never a traceback."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from typer.testing import CliRunner

from pipeline.cli.commands import app
from pipeline.config import get_settings
from pipeline.runtime.rules import RULES_DIR


@pytest.fixture(autouse=True)
def fresh_process() -> Iterator[None]:
    """A command may configure logging onto the runner's captured stream, closed afterwards,
    and reads its settings once per process: each test gets its own."""
    get_settings.cache_clear()
    yield
    structlog.reset_defaults()
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        (["submit", "--file", "no-such-reports.jsonl"], "no file"),
        (["topics", "tail", "hotline.nope"], "unknown topic"),
        (["bench", "verify", "--latency", "0"], "--latency must be above 0"),
        (["bench", "jurisdiction", "--hosts", "0"], "--hosts 1 to 600"),
        (["stage", "run", "categorise"], "unknown stage"),
        (["submit"], "give --url and --category"),
    ],
)
def test_a_mistake_gets_one_line_and_exit_code_1(arguments: list[str], said: str) -> None:
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 1
    assert said in result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)


def test_a_worker_with_a_malformed_rule_file_refuses_to_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = tmp_path / "categorize"
    shutil.copytree(RULES_DIR / "categorize", rules)
    (rules / "hate.yaml").write_text('version: "2026.12.1"\ncategory: hate\nrules: [\n')
    monkeypatch.setenv("HOTLINE_CATEGORIZE_RULES", str(rules))
    monkeypatch.setenv("HOTLINE_BOOTSTRAP", "127.0.0.1:9")  # never reached: it stops before
    result = CliRunner().invoke(app, ["stage", "run", "categorize"])
    assert result.exit_code == 1
    assert f"{rules / 'hate.yaml'}:4" in result.output.replace("\n", "")
