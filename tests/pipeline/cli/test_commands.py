"""A user's mistakes on the command line: one clear line and exit code 1, never a traceback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import structlog
from typer.testing import CliRunner

from pipeline.cli.commands import app


@pytest.fixture(autouse=True)
def logging_left_alone() -> Iterator[None]:
    """A command may configure logging onto the runner's captured stream, closed afterwards."""
    yield
    structlog.reset_defaults()


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        (["submit", "--file", "no-such-reports.jsonl"], "no file"),
        (["topics", "tail", "hotline.nope"], "unknown topic"),
        (["bench", "verify", "--latency", "0"], "--latency must be above 0"),
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
