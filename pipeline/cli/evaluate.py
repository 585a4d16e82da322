"""`hotline eval categorize`: the categorize stage's pure decision over a labelled set.

Each line is `{"text", "language", "label"}`, the label a category or `not_illegal`. The
reporter's category is the label (a benign text is reported as a category drawn for it), and
with `--misreport` a share of the lines is reported as another category, as reporters do.
Precision and recall are over the cases the rules decided without a person; the cases sent to
review are counted apart.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from rich.table import Table

from agents.categorize import Evidence, LabelledText, RuleBook, decide
from schemas import Category, Verdict

NOT_ILLEGAL = "not_illegal"
REVIEW = "review"


def outcome(verdict: Verdict, category: Category | None) -> str:
    if verdict is Verdict.needs_review:
        return REVIEW
    if verdict is Verdict.not_illegal or category is None:
        return NOT_ILLEGAL
    return str(category)


def evaluate(
    book: RuleBook, lines: list[LabelledText], misreport: float = 0.0, seed: int = 7
) -> dict[str, Any]:
    draw = random.Random(seed)
    categories = sorted(str(c) for c in book.categories)
    now = datetime.now(UTC)
    pairs = []
    for line in lines:
        reported = line.label if line.label != NOT_ILLEGAL else draw.choice(categories)
        if misreport and draw.random() < misreport:
            reported = draw.choice([c for c in categories if c != reported])
        found = decide(book, Evidence(line.text, "", line.language), Category(reported), now)
        pairs.append((line.label, outcome(found.verdict, found.category)))
    return summarise(pairs)


def summarise(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    auto = [(truth, said) for truth, said in pairs if said != REVIEW]
    classes = sorted({truth for truth, _ in pairs} | {said for _, said in auto})
    per_class = {}
    for name in classes:
        said = [truth for truth, s in auto if s == name]
        truly = [s for truth, s in pairs if truth == name]
        per_class[name] = {
            "precision": round(said.count(name) / len(said), 3) if said else None,
            "recall": round(sum(s == name for s in truly) / len(truly), 3) if truly else None,
            "review": round(truly.count(REVIEW) / len(truly), 3) if truly else None,
            "texts": len(truly),
        }
    precisions = [c["precision"] for c in per_class.values() if c["precision"] is not None]
    return {
        "texts": len(pairs),
        "macro_precision": round(sum(precisions) / len(precisions), 3) if precisions else 0.0,
        "review_share": round(1 - len(auto) / len(pairs), 3) if pairs else 0.0,
        "accuracy_auto": round(sum(t == s for t, s in auto) / len(auto), 3) if auto else 0.0,
        "per_class": per_class,
        "confusion": {
            f"{truth} -> {said}": count for (truth, said), count in sorted(Counter(pairs).items())
        },
    }


def report_table(result: dict[str, Any]) -> Table:
    table = Table(
        title="categorize on the labelled set (precision over decisions without a person)"
    )
    for column in ("label", "texts", "precision", "recall", "to review"):
        table.add_column(column, justify="right" if column != "label" else "left")
    for name, row in result["per_class"].items():
        table.add_row(
            name,
            str(row["texts"]),
            *(
                "-" if row[k] is None else f"{row[k]:.2f}"
                for k in ("precision", "recall", "review")
            ),
        )
    return table


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"
