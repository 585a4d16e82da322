"""The gateway on the session's Kafka: what it accepts is on `hotline.intake` as `hotline submit`
would send it, what it refuses the received stage refuses for the same reason, and reviewers'
decisions and appeals are on their topics."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from pipeline.runtime.kafka_io import read_topic
from pipeline.runtime.topics import APPEALS, INTAKE, REJECTED, REVIEW_DECISIONS
from schemas import Rejection, ReviewDecision
from schemas.ledger import Appeal
from tests.builders import encode, report
from tests.fixtures.gateway import (
    Client,
    RunningGateway,
    blocking_notice,
    record_registry_entry,
    record_review_case,
    review_case,
)
from tests.fixtures.stage import ROOT, StageWorkerFactory

pytestmark = pytest.mark.broker


def _records(bootstrap: str, topic: str) -> list[tuple[bytes | None, bytes]]:
    records = asyncio.run(read_topic(bootstrap, topic))
    return [(r.key, r.value) for r in records if r.value is not None]


def test_an_accepted_report_is_on_hotline_intake(broker_gateway: RunningGateway) -> None:
    answer = broker_gateway.client.post(
        "/api/v1/reports",
        json=report(url="http://Broker-Test.KZ/x", category="gambling"),
        key=broker_gateway.keys["intake"],
    )
    assert answer.status == 202, answer.text
    bootstrap = broker_gateway.settings.bootstrap
    assert bootstrap is not None
    found = [
        (key, orjson.loads(value))
        for key, value in _records(bootstrap, INTAKE)
        if b"broker-test.kz" in value.lower()
    ]
    [(key, sent)] = found
    assert key == b"broker-test.kz"
    assert sent["url"] == "http://Broker-Test.KZ/x"  # as reported: the stage normalises it
    assert sent["submission_id"].startswith("gw-")


def test_the_received_stage_refuses_what_the_gateway_refuses_for_the_same_reason(
    broker_gateway: RunningGateway, stage_worker: StageWorkerFactory
) -> None:
    """The same bytes to the gateway and, straight, to `hotline.intake` with the received stage
    running: the gateway's 422 reason is the stage's rejection reason, every one."""
    bootstrap = broker_gateway.settings.bootstrap
    assert bootstrap is not None
    stamp = int(time.time() * 1000)
    bad = {
        f"gwt-{stamp}-scheme": report(url="javascript:alert(1)"),
        f"gwt-{stamp}-category": report(category="spam"),
        f"gwt-{stamp}-field": report(colour="red"),
        f"gwt-{stamp}-time": report(submitted_at=12345),
        f"gwt-{stamp}-channel": report(channel=None),
    }
    said = {}
    for submission_id, document in bad.items():
        body = encode({**document, "submission_id": submission_id})
        answer = broker_gateway.client.post(
            "/api/v1/reports", body=body, key=broker_gateway.keys["intake"]
        )
        assert answer.status == 422
        said[f"submission:{submission_id}"] = answer.json()["reason"]

    async def send_straight() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
        await producer.start()
        try:
            for submission_id, document in bad.items():
                body = encode({**document, "submission_id": submission_id})
                await producer.send_and_wait(INTAKE, body, key=b"example.kz")
        finally:
            await producer.stop()

    asyncio.run(send_straight())
    worker = stage_worker("received")
    deadline = time.monotonic() + 120
    rejected: dict[str, str] = {}
    while len(rejected) < len(said) and time.monotonic() < deadline:
        for _, value in _records(bootstrap, REJECTED):
            rejection = Rejection.model_validate_json(value)
            if rejection.causation_id in said:
                rejected[rejection.causation_id] = rejection.reason.value
        time.sleep(1)
    worker.stop()
    assert rejected == said


def test_a_decision_is_on_hotline_review_decisions(broker_gateway: RunningGateway) -> None:
    case_id = f"HL-GW{int(time.time()) % 10**6:06d}"
    record_review_case(broker_gateway, review_case(case_id))
    answer = broker_gateway.client.post(
        f"/api/v1/review/{case_id}/decisions",
        json={"verdict": "not_illegal", "note": "satire"},
        key=broker_gateway.keys["reviewer"],
    )
    assert answer.status == 202, answer.text
    bootstrap = broker_gateway.settings.bootstrap
    assert bootstrap is not None
    found = [
        (key, ReviewDecision.model_validate_json(value))
        for key, value in _records(bootstrap, REVIEW_DECISIONS)
        if case_id.encode() in value
    ]
    [(key, decision)] = found
    assert key == case_id.encode()
    assert (decision.verdict, decision.reviewer) == ("not_illegal", "test-reviewer")
    assert decision.decision_id == answer.json()["decision_id"]


def test_an_appeal_is_on_hotline_appeals(broker_gateway: RunningGateway) -> None:
    case_id = f"HL-AP{int(time.time()) % 10**6:06d}"
    entry_id = record_registry_entry(broker_gateway, blocking_notice(case_id))
    answer = broker_gateway.client.post(
        f"/api/v1/registry/{entry_id}/appeals", json={"grounds": "Not ours any more."}
    )
    assert answer.status == 202, answer.text
    bootstrap = broker_gateway.settings.bootstrap
    assert bootstrap is not None
    found = [
        (key, Appeal.model_validate_json(value))
        for key, value in _records(bootstrap, APPEALS)
        if answer.json()["appeal_id"].encode() in value
    ]
    [(key, appeal)] = found
    assert key == case_id.encode() and appeal.entry_id == entry_id


def test_serve_says_where_it_listens_and_stops_on_sigterm(
    pipeline_bootstrap: str, tmp_path: Path
) -> None:
    """`pipeline.gateway.server.serve`, as `hotline gateway` runs it, in its own process."""
    env = {
        **os.environ,
        "HOTLINE_DATA_DIR": str(tmp_path / "data"),
        "HOTLINE_GATEWAY_PORT": "0",
        "HOTLINE_LOG_FORMAT": "json",
    }
    code = (
        "from pipeline.config import Settings; from pipeline.gateway.server import serve; "
        f"serve(Settings(), {pipeline_bootstrap!r})"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code], env=env, stderr=subprocess.PIPE, text=True, cwd=ROOT
    )
    try:
        assert process.stderr is not None
        url = None
        for line in process.stderr:
            if line.startswith("{") and '"gateway listening"' in line:
                url = json.loads(line)["url"]
                break
        assert url is not None and url.startswith("http://127.0.0.1:")
        assert Client(url).get("/healthz").json() == {"status": "ok"}
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
