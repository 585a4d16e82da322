"""categorize on a real broker: cases in, the review queue worked through the command line."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from agents.categorize import CATEGORIZED, CONTENT_CHECKED
from pipeline.runtime.topics import REVIEW, TERMINATED
from schemas import Category
from tests.builders import content_checked
from tests.fixtures.stage import (
    ROOT,
    StageWorkerFactory,
    publish_envelopes,
    stage_events,
    wait_until,
)

pytestmark = pytest.mark.broker

CASINO = (
    "Онлайн-казино без лицензии: рабочее зеркало, бонус 200% к депозиту, фриспины, "
    "быстрый вывод выигрышей без верификации."
)


def hotline(bootstrap: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *arguments],
        cwd=ROOT,
        env={**os.environ, "HOTLINE_BOOTSTRAP": bootstrap},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_an_analyst_works_the_queue(
    pipeline_bootstrap: str, stage_worker: StageWorkerFactory, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:8].upper()
    waiting = content_checked(CASINO, Category.terrorism, case_id=f"HL-RV-{tag}")
    decided = content_checked(CASINO, Category.gambling, case_id=f"HL-OK-{tag}")
    stage_worker("categorize")
    asyncio.run(publish_envelopes(pipeline_bootstrap, CONTENT_CHECKED, [waiting, decided]))
    cases = {waiting.case_id, decided.case_id}

    def ends() -> dict[str, list[dict[str, object]]]:
        topics = [CATEGORIZED, REVIEW, TERMINATED]
        return stage_events(pipeline_bootstrap, topics, "categorize", cases)

    wait_until(lambda: set(ends()) == cases, 120, "both cases categorized")
    assert ends()[decided.case_id][0]["outcome"] == "continue"

    listed = hotline(pipeline_bootstrap, "review", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    queue = [json.loads(line) for line in listed.stdout.splitlines()]
    [mine] = [row for row in queue if row["case_id"] == waiting.case_id]
    assert mine["reported"] == "terrorism" and mine["suggested"] == "gambling"
    assert decided.case_id not in {row["case_id"] for row in queue}

    done = hotline(
        pipeline_bootstrap,
        "review",
        "decide",
        waiting.case_id,
        "--verdict",
        "corrected",
        "--category",
        "gambling",
        "--reviewer",
        "aigerim",
        "--note",
        "a casino, not propaganda",
    )
    assert done.returncode == 0, done.stderr
    wait_until(lambda: len(ends()[waiting.case_id]) == 2, 60, "the decided case to move on")
    [moved] = [e for e in ends()[waiting.case_id] if e["outcome"] != "review"]
    category = moved["case"]["category"]  # type: ignore[index]
    assert moved["outcome"] == "continue" and category["reviewer"] == "aigerim"
    assert category["category"] == "gambling" and category["note"]

    again = hotline(
        pipeline_bootstrap,
        "review",
        "decide",
        waiting.case_id,
        "--verdict",
        "not_illegal",
        "--reviewer",
        "bolat",
    )
    assert again.returncode == 1 and "already decided" in again.stderr
    unknown = hotline(
        pipeline_bootstrap,
        "review",
        "decide",
        "HL-NOPE",
        "--verdict",
        "confirmed",
        "--reviewer",
        "bolat",
    )
    assert unknown.returncode == 1 and "no case HL-NOPE" in unknown.stderr
