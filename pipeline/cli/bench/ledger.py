"""`hotline bench ledger`: a ledger of a million events, then `case show` for random cases.

The events are whole case histories as the topics carry them (`pipeline/sandbox/histories.py`:
received, checked, categorized, dispatched, notices, receipts; some cases closed on the way or
waiting in review), made once per shape and given each case's own id. They are recorded in
batches as `ledger rebuild` records them, so `ingest_events_per_s` is the rebuild's rate; then
the timeline `case show` prints is read for random cases, each query timed.
"""

from __future__ import annotations

import random
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress

from pipeline.config import Settings
from pipeline.ledger import views
from pipeline.ledger.store import Ledger, LedgerMessage, ledger_topics
from pipeline.sandbox.histories import case_history
from schemas import Category

PLACEHOLDER = "HL-BNCH-0000-0000"
GOAL_P99_MS = 100.0
_SHAPES = ("dispatched", "dispatched", "dispatched", "terminated", "review")


def _templates() -> list[list[LedgerMessage]]:
    start = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    categories = [Category.gambling, Category.drugs, Category.hate, Category.financial_pyramid]
    return [
        case_history(PLACEHOLDER, "bench-site.kz", categories[n % 4], start, ending=shape)
        for n, shape in enumerate(_SHAPES)
    ]


def _case(templates: list[list[LedgerMessage]], number: int) -> tuple[str, list[LedgerMessage]]:
    case_id = f"HL-{number:014d}"  # unique, and as long as the placeholder
    needle, replacement = PLACEHOLDER.encode(), case_id.encode()
    return case_id, [
        LedgerMessage(m.topic, m.value.replace(needle, replacement), case_id.encode())
        for m in templates[number % len(templates)]
    ]


def run_ledger_bench(
    settings: Settings, events: int, lookups: int, console: Console, database_url: str = ""
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="hotline-bench-ledger-") as scratch:
        url = database_url or f"sqlite:///{Path(scratch) / 'ledger.db'}"
        ledger = Ledger(url, topic_kinds=ledger_topics(settings))
        ledger.reset()
        templates = _templates()
        recorded, number, case_ids = 0, 0, []
        batch: list[LedgerMessage] = []
        ingest_s = 0.0
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("recording events", total=events)
            while recorded + len(batch) < events:
                case_id, messages = _case(templates, number)
                number += 1
                case_ids.append(case_id)
                batch.extend(messages)
                if len(batch) >= 2000:
                    ingest_s += _timed_record(ledger, batch)
                    recorded += len(batch)
                    progress.update(task, completed=recorded)
                    batch = []
            if batch:
                ingest_s += _timed_record(ledger, batch)
                recorded += len(batch)
        console.print(f"{recorded} events of {len(case_ids)} cases; timing case show")
        draw = random.Random(5)
        times_ms = []
        for case_id in draw.choices(case_ids, k=lookups):
            started = time.perf_counter()
            history = views.timeline(ledger, case_id)
            times_ms.append((time.perf_counter() - started) * 1000)
            assert history, case_id
        ledger.close()
    times_ms.sort()
    p99 = times_ms[max(int(len(times_ms) * 0.99) - 1, 0)]
    return {
        "events": recorded,
        "cases": len(case_ids),
        "database": url.split(":", 1)[0],
        "ingest_events_per_s": round(recorded / ingest_s),
        "case_show_lookups": lookups,
        "case_show_median_ms": round(times_ms[len(times_ms) // 2], 2),
        "case_show_p99_ms": round(p99, 2),
        "goal_case_show_p99_ms": GOAL_P99_MS,
        "meets_goal": p99 < GOAL_P99_MS,
    }


def _timed_record(ledger: Ledger, batch: list[LedgerMessage]) -> float:
    started = time.perf_counter()
    ledger.record(batch)
    return time.perf_counter() - started
