"""Rule files: loaded and validated, a malformed one named with its file and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

from pipeline.runtime.rules import RuleFileError, RuleSet, load_rules, stage_rules


class Term(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str
    weight: float


class Terms(RuleSet):
    terms: list[Term]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "terms.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_rules_load_with_their_version(tmp_path: Path) -> None:
    path = write(tmp_path, "version: '2026.12.1'\nterms:\n  - {text: казино, weight: 2.5}\n")
    rules = load_rules(path, Terms)
    assert rules.version == "2026.12.1" and rules.terms[0].text == "казино"


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("version: '1'\nterms:\n  - text: a\n    weight: heavy\n", 4, "terms.0.weight"),
        ("version: '1'\nterms:\n  - text: a\n    weight: 1\n  - weight: 2\n", 5, "terms.1.text"),
        ("version: '1'\nterms: [\n", 3, "not valid YAML"),
        ("terms: []\n", 1, "version"),
        ("version: '1'\nterms: []\nextra: 1\n", 3, "extra"),
    ],
)
def test_a_malformed_file_is_named_with_its_line(
    tmp_path: Path, text: str, line: int, problem: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(RuleFileError) as raised:
        load_rules(path, Terms)
    assert raised.value.line == line and problem in str(raised.value)
    assert str(path) in str(raised.value)


def test_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(RuleFileError, match="cannot be read"):
        stage_rules("categorize", "terms.yaml", Terms, root=tmp_path)
