"""`hotline notices overdue|confirm` on the session broker: a notice past its deadline is listed
until an operator confirms it; one not yet due is not."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from pipeline.cli.bench.dispatch import notices_for_sink
from pipeline.config import Settings
from pipeline.delivery.service import receipt
from pipeline.runtime.kafka_io import kafka_producer
from pipeline.runtime.topics import DELIVERIES
from schemas.dispatch import Notice
from tests.fixtures.stage import ROOT
from tests.pipeline.delivery.test_service_on_broker import publish

pytestmark = pytest.mark.broker


def hotline(bootstrap: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOTLINE_BOOTSTRAP": bootstrap}
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *arguments], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def test_an_overdue_notice_is_listed_until_it_is_confirmed(pipeline_bootstrap: str) -> None:
    run = uuid.uuid4().hex[:8].upper()
    (late_raw, due_raw) = [
        Notice.model_validate_json(v) for _, v in notices_for_sink(f"HL-ODUE-{run}", 2)
    ]
    late = late_raw.model_copy(update={"deadline": datetime.now(UTC) - timedelta(hours=3)})
    due = due_raw.model_copy(update={"deadline": datetime.now(UTC) + timedelta(hours=3)})
    delivered = receipt(late, "delivered", 1, "250 OK")
    publish(
        pipeline_bootstrap,
        [(n.case_id.encode(), n.model_dump_json().encode()) for n in (late, due)],
    )

    async def record() -> None:
        async with kafka_producer(Settings(), pipeline_bootstrap) as producer:
            await producer.send_and_wait(DELIVERIES, delivered.model_dump_json().encode(),
                                         key=late.idempotency_key.encode())  # fmt: skip

    asyncio.run(record())

    listed = hotline(pipeline_bootstrap, "notices", "overdue", "--json")
    assert listed.returncode == 0, listed.stderr[-2000:]
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    mine = [r for r in rows if r["case_id"].startswith(f"HL-ODUE-{run}")]
    assert [(r["key"], r["status"]) for r in mine] == [(late.idempotency_key, "delivered")]
    assert float(mine[0]["late_hours"]) >= 2.9

    confirmed = hotline(pipeline_bootstrap, "notices", "confirm", late.idempotency_key,
                        "--by", "aigerim", "--note", "removed by the host")  # fmt: skip
    assert confirmed.returncode == 0, confirmed.stderr[-2000:]
    assert json.loads(confirmed.stdout)["status"] == "confirmed"
    again = hotline(pipeline_bootstrap, "notices", "overdue", "--json")
    keys = {json.loads(line)["key"] for line in again.stdout.splitlines()}
    assert late.idempotency_key not in keys and due.idempotency_key not in keys

    unknown = hotline(pipeline_bootstrap, "notices", "confirm", "no-such-key", "--by", "x")
    assert unknown.returncode == 1 and "no notice" in unknown.stderr + unknown.stdout
