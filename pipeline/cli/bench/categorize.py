"""`hotline bench categorize`: the categorize decision on 10 KiB texts, on one core.

The texts are made from the labelled set (`tests/data/categorize.jsonl`), lines joined until
each is 10 KiB, so the rules see real words in every language; the time is the pure decision
(folding, the term scan, scores, the verdict), one text after another in this process.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from agents.categorize import CategorizeOptions, Evidence, RuleBook, decide, read_labelled

TEXT_BYTES = 10 * 1024
TARGET_PER_S = 2_000
DATA = Path(__file__).resolve().parents[3] / "tests" / "data" / "categorize.jsonl"


def sample_texts(count: int, seed: int = 11) -> list[str]:
    lines = [line.text for line in read_labelled(DATA)]
    draw = random.Random(seed)
    texts = []
    for _ in range(min(count, 200)):  # distinct texts, reused round-robin
        parts: list[str] = []
        while len(" ".join(parts).encode()) < TEXT_BYTES:
            parts.append(draw.choice(lines))
        texts.append(" ".join(parts).encode()[:TEXT_BYTES].decode(errors="ignore"))
    return texts


def run_categorize_bench(count: int, console: Console) -> dict[str, Any]:
    book = RuleBook.load(CategorizeOptions().categorize_rules)
    texts = sample_texts(count)
    categories = list(book.categories)
    console.print(f"deciding {count} texts of {TEXT_BYTES} bytes")
    now = datetime.now(UTC)
    started = time.perf_counter()
    for n in range(count):
        decide(
            book, Evidence(texts[n % len(texts)], "", "ru"), categories[n % len(categories)], now
        )
    elapsed = time.perf_counter() - started
    rate = count / elapsed
    return {
        "texts": count,
        "text_bytes": TEXT_BYTES,
        "texts_per_s": round(rate),
        "target_texts_per_s": TARGET_PER_S,
        "meets_target": rate >= TARGET_PER_S,
        "ruleset_version": book.version,
    }
