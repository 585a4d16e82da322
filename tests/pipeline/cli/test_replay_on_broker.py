"""`hotline case replay --execute` on the broker: the running stages take the case on again,
the ledger marks what the replay made, and no notice already delivered is sent again."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from agents.categorize import CATEGORIZED
from pipeline.ledger import views
from pipeline.sandbox import Sandbox
from pipeline.sandbox.cases import categorized_envelope
from schemas import Category
from tests.fixtures.stage import ROOT, StageWorkerFactory, publish_envelopes, wait_until
from tests.pipeline.delivery.test_service_on_broker import keys_at_sink
from tests.pipeline.ledger.test_store import open_ledger

pytestmark = pytest.mark.broker


def test_a_replay_goes_through_the_pipeline_and_sends_nothing_twice(
    pipeline_bootstrap: str, sandbox: Sandbox, stage_worker: StageWorkerFactory, tmp_path: Path
) -> None:
    ledger_url = f"sqlite:///{tmp_path / 'ledger.db'}"
    env = {**sandbox.pipeline_env(tmp_path / "banks"), "HOTLINE_DATABASE_URL": ledger_url}
    for stage in ("jurisdiction", "dispatch", "delivery", "ledger"):
        stage_worker(stage, **env)
    case_id = f"HL-RPLY-{uuid.uuid4().hex[:4].upper()}-BRKR"
    case = categorized_envelope(
        sandbox.url("best-casino.kz", "/kk"), "best-casino.kz", case_id, Category.gambling
    )
    asyncio.run(publish_envelopes(pipeline_bootstrap, CATEGORIZED, [case]))
    ledger = open_ledger(ledger_url)

    def delivered() -> set[str]:
        return {
            str(e.payload["idempotency_key"])
            for e in views.timeline(ledger, case_id)
            if e.kind == "delivery_receipt" and e.outcome in ("delivered", "manual")
        }

    def notices() -> set[str]:
        return {
            str(e.payload["idempotency_key"])
            for e in views.timeline(ledger, case_id)
            if e.kind == "notice"
        }

    wait_until(lambda: bool(notices()) and delivered() == notices(), 120, "the first delivery")
    mailed_before = sorted(k for k in keys_at_sink(sandbox) if k in notices())
    assert mailed_before

    done = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "case", "replay", case_id,
         "--from-stage", "jurisdiction", "--execute", "--json"],
        cwd=ROOT, env={**os.environ, **env, "HOTLINE_BOOTSTRAP": pipeline_bootstrap},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert '"already_delivered"' in done.stdout and "published" in done.stderr

    def replayed() -> list[str]:
        return [e.stage or e.kind for e in views.timeline(ledger, case_id) if e.replay]

    wait_until(lambda: "dispatch" in replayed(), 120, "the replay's dispatch in the ledger")
    marked = replayed()
    assert marked[:3] == ["categorize", "jurisdiction", "dispatch"]  # input, then new events
    assert sorted(k for k in keys_at_sink(sandbox) if k in notices()) == mailed_before
    assert ledger.verify(case_id) == []
