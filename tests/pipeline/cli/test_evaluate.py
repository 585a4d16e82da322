"""`hotline eval categorize` and `bench categorize`: the measures, and a floor under them."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console

from agents.categorize import RuleBook, read_labelled
from pipeline.cli.bench.categorize import run_categorize_bench
from pipeline.cli.evaluate import evaluate, summarise
from pipeline.runtime.rules import RULES_DIR

DATA = Path(__file__).resolve().parents[2] / "data" / "categorize.jsonl"
# The issue's targets, met on tests/data/categorize.jsonl (README, "categorize"): a change of
# rules or of the development set that misses either fails here.
PRECISION_FLOOR = 0.90
REVIEW_CEILING = 0.25


def test_the_labelled_set_is_what_the_issue_asks_for() -> None:
    lines = read_labelled(DATA)
    labels = {line.label for line in lines}
    assert len(lines) >= 300 and {line.language for line in lines} == {"kk", "ru", "en"}
    assert sum(line.label == "not_illegal" for line in lines) >= len(lines) / 3
    assert labels - {"not_illegal"} <= {
        str(c) for c in RuleBook.load(RULES_DIR / "categorize").categories
    }


def test_the_rules_do_not_slide_back() -> None:
    result = evaluate(RuleBook.load(RULES_DIR / "categorize"), read_labelled(DATA))
    assert result["macro_precision"] >= PRECISION_FLOOR
    assert result["review_share"] <= REVIEW_CEILING
    misreported = evaluate(RuleBook.load(RULES_DIR / "categorize"), read_labelled(DATA), 0.3)
    assert misreported["macro_precision"] >= PRECISION_FLOOR - 0.05


def test_precision_counts_only_what_the_rules_decided() -> None:
    pairs = [("gambling", "gambling"), ("gambling", "review"), ("not_illegal", "gambling")]
    result = summarise(pairs)
    assert result["per_class"]["gambling"]["precision"] == 0.5
    assert result["per_class"]["gambling"]["recall"] == 0.5
    assert result["review_share"] == round(1 / 3, 3)
    assert result["confusion"] == {
        "gambling -> gambling": 1,
        "gambling -> review": 1,
        "not_illegal -> gambling": 1,
    }


def test_a_bad_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "set.jsonl"
    path.write_text(json.dumps({"text": "x", "label": "hate"}) + "\n{broken\n")
    try:
        read_labelled(path)
    except ValueError as error:
        assert f"{path}:2" in str(error)
    else:
        raise AssertionError("a broken line was read")


def test_the_benchmark_reports_texts_per_second() -> None:
    result = run_categorize_bench(20, Console(quiet=True))
    assert result["texts"] == 20 and result["texts_per_s"] > 0 and result["text_bytes"] == 10240
