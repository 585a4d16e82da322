"""`hotline replay STAGE` on a real broker: dispatch replayed from the earliest offsets makes
the very same events and notices again and mails none of them twice; `--execute` is refused
while a worker runs; `--to-datetime` and `--shift-by` move the group where they say, on
Apache Kafka (its time index) and on Tansu (searched, its ListOffsets by time being wrong)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from agents.categorize import CATEGORIZED
from agents.dispatch import DISPATCHED
from agents.jurisdiction import JURISDICTION_RESOLVED as RESOLVED
from pipeline.broker.launcher import TansuBroker
from pipeline.config import Settings
from pipeline.runtime.kafka_io import read_topic
from pipeline.runtime.profile import profile_for
from pipeline.runtime.topics import NOTICES, create_topics, load_topics
from pipeline.sandbox import Sandbox
from pipeline.sandbox.cases import categorized_envelope
from schemas import Category, Envelope
from tests.fixtures.stage import (
    ROOT,
    StageWorkerFactory,
    group_members,
    publish_envelopes,
    stage_events,
    wait_until,
)
from tests.pipeline.delivery.test_service_on_broker import keys_at_sink

pytestmark = pytest.mark.broker


def hotline(bootstrap: str, *arguments: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "HOTLINE_BOOTSTRAP": bootstrap, **env}
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *arguments], cwd=ROOT,
                          env=environment, capture_output=True, text=True, timeout=180)  # fmt: skip


def rows(done: subprocess.CompletedProcess[str]) -> dict[tuple[str, int], dict[str, Any]]:
    assert done.returncode == 0, done.stderr[-2000:]
    found = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return {(row["topic"], row["partition"]): row for row in found}


async def _offsets(bootstrap: str, group: str, topic: str) -> dict[str, dict[int, int | None]]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(load_topics()[topic].partitions)]
        beginnings = await consumer.beginning_offsets(partitions)
        ends = await consumer.end_offsets(partitions)
        return {
            "beginning": {tp.partition: beginnings[tp] for tp in partitions},
            "end": {tp.partition: ends[tp] for tp in partitions},
            "committed": {tp.partition: await consumer.committed(tp) for tp in partitions},
        }
    finally:
        await consumer.stop()


def offsets(bootstrap: str, group: str, topic: str) -> dict[str, dict[int, int | None]]:
    return asyncio.run(_offsets(bootstrap, group, topic))


def test_dispatch_replayed_from_the_earliest_offsets_makes_the_same_events_and_mails_nothing_twice(
    pipeline_bootstrap: str, sandbox: Sandbox, stage_worker: StageWorkerFactory, tmp_path: Path
) -> None:
    env = sandbox.pipeline_env(tmp_path / "banks")
    run = uuid.uuid4().hex[:8].upper()
    hosts = {"kazinfo-news.kz": Category.hate, "street-fights.ru": Category.violence,
             "best-casino.kz": Category.gambling}  # fmt: skip
    cases = [
        categorized_envelope(sandbox.url(host, "/"), host, f"HL-STRP-{run}-{n}", category)
        for n, (host, category) in enumerate(hosts.items())
    ]
    ids = {c.case_id for c in cases}
    for name in ("jurisdiction", "delivery"):
        stage_worker(name, **env)
    stage_worker("dispatch", **env)
    asyncio.run(publish_envelopes(pipeline_bootstrap, CATEGORIZED, cases))

    def dispatched() -> dict[str, list[dict[str, Any]]]:
        return stage_events(pipeline_bootstrap, [DISPATCHED], "dispatch", ids)

    wait_until(lambda: set(dispatched()) == ids, 120, "the cases dispatched")
    first_ids = {doc["event_id"] for docs in dispatched().values() for doc in docs}
    keys = {k for docs in dispatched().values() for k in docs[0]["case"]["routing"]["notices"]}
    assert len(first_ids) == len(cases) and keys

    def notices() -> dict[str, list[bytes]]:
        found: dict[str, list[bytes]] = {}
        for record in asyncio.run(read_topic(pipeline_bootstrap, NOTICES)):
            key = orjson.loads(record.value).get("idempotency_key")
            if key in keys:
                found.setdefault(key, []).append(record.value)
        return found

    wait_until(lambda: set(notices()) == keys, 60, "the notices")

    def caught_up() -> bool:
        state = offsets(pipeline_bootstrap, "hotline-dispatch", RESOLVED)
        at = {p: state["beginning"][p] if c is None else c for p, c in state["committed"].items()}
        return at == state["end"]  # a partition empty so far has nothing to commit

    wait_until(caught_up, 60, "the dispatch worker to commit its last offsets")
    wait_until(lambda: len([k for k in keys_at_sink(sandbox) if k in keys]) >= 1, 60, "mail")
    time.sleep(3)  # every e-mail notice mailed
    mailed = sorted(k for k in keys_at_sink(sandbox) if k in keys)

    # While a dispatch worker runs, the new offsets are refused, and nothing changes.
    refused = hotline(pipeline_bootstrap, "replay", "dispatch", "--to-earliest", "--execute")
    assert refused.returncode == 1
    said = " ".join(refused.stderr.split())
    assert "live member" in said and "stop every dispatch worker" in said
    assert "Traceback" not in refused.stderr
    assert caught_up()

    for worker in [w for w in stage_worker.started if w.stage == "dispatch"]:  # type: ignore[attr-defined]
        worker.stop()
    wait_until(lambda: not group_members(pipeline_bootstrap, "hotline-dispatch"), 60, "no member")

    # The preview says what would be read again and changes nothing.
    before = offsets(pipeline_bootstrap, "hotline-dispatch", RESOLVED)
    preview = rows(hotline(pipeline_bootstrap, "replay", "dispatch", "--to-earliest", "--json"))
    assert set(preview) == {(RESOLVED, p) for p in before["end"]}
    for (_, p), row in preview.items():
        assert row["committed"] == before["committed"][p]
        assert row["new_offset"] == before["beginning"][p]
        assert row["re_read"] == before["end"][p] - before["beginning"][p]
    assert offsets(pipeline_bootstrap, "hotline-dispatch", RESOLVED) == before
    table = hotline(pipeline_bootstrap, "replay", "dispatch", "--to-earliest")
    assert "re-read" in table.stdout and "preview only" in table.stderr

    done = hotline(pipeline_bootstrap, "replay", "dispatch", "--to-earliest", "--execute")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "new offsets committed" in " ".join(done.stderr.split())
    after = offsets(pipeline_bootstrap, "hotline-dispatch", RESOLVED)
    assert after["committed"] == after["beginning"]

    stage_worker("dispatch", **env)
    wait_until(
        lambda: all(len(docs) >= 2 for docs in dispatched().values()), 180, "the cases again"
    )
    again = dispatched()
    assert {doc["event_id"] for docs in again.values() for doc in docs} == first_ids
    assert sum(len(docs) for docs in again.values()) >= 2 * len(cases)
    wait_until(lambda: all(len(v) >= 2 for v in notices().values()), 60, "the notices again")
    assert all(len(set(values)) == 1 for values in notices().values())  # the same, to the byte
    time.sleep(3)  # the time delivery would need to mail them again
    assert sorted(k for k in keys_at_sink(sandbox) if k in keys) == mailed


async def _publish(
    bootstrap: str, topic: str, envelopes: list[Envelope], **producer: Any
) -> dict[int, list[int]]:
    """Publish, keyed by case id; the offsets each partition got, in order."""
    client = AIOKafkaProducer(bootstrap_servers=bootstrap, **producer)
    await client.start()
    placed: dict[int, list[int]] = {}
    try:
        for envelope in envelopes:
            sent = await client.send_and_wait(
                topic, envelope.model_dump_json().encode(), key=envelope.case_id.encode()
            )
            placed.setdefault(sent.partition, []).append(sent.offset)
    finally:
        await client.stop()
    return placed


def two_batches(bootstrap: str, prefix: str, **producer: Any) -> tuple[str, dict[int, list[int]]]:
    """Eight categorized cases, a moment, then eight more: the moment between them (ISO) and
    where the second eight went."""

    def batch(name: str) -> list[Envelope]:
        return [
            categorized_envelope(f"http://replay-{n}.kz/", f"replay-{n}.kz", f"{prefix}-{name}{n}")
            for n in range(8)
        ]

    asyncio.run(_publish(bootstrap, CATEGORIZED, batch("A"), **producer))
    time.sleep(0.1)
    moment = datetime.now(UTC).isoformat()
    time.sleep(0.1)
    return moment, asyncio.run(_publish(bootstrap, CATEGORIZED, batch("B"), **producer))


def check_time_and_shift(bootstrap: str, second: dict[int, list[int]], **env: str) -> None:
    """The group `hotline-jurisdiction` moved to a time, shifted back and forward, and left at
    the end (so no later worker reads these cases)."""
    group = "hotline-jurisdiction"
    moment = env.pop("MOMENT")
    state = offsets(bootstrap, group, CATEGORIZED)
    expected = {p: min(second[p]) if p in second else end for p, end in state["end"].items()}

    preview = rows(hotline(bootstrap, "replay", "jurisdiction", "--to-datetime", moment,
                           "--json", **env))  # fmt: skip
    assert {p: row["new_offset"] for (_, p), row in preview.items()} == expected
    assert offsets(bootstrap, group, CATEGORIZED) == state  # a preview changes nothing
    rows(hotline(bootstrap, "replay", "jurisdiction", "--to-datetime", moment, "--execute",
                 "--json", **env))  # fmt: skip
    assert offsets(bootstrap, group, CATEGORIZED)["committed"] == expected

    back = rows(hotline(bootstrap, "replay", "jurisdiction", "--shift-by", "-2", "--execute",
                        "--json", **env))  # fmt: skip
    for (_, p), row in back.items():
        assert row["committed"] == expected[p]
        assert row["new_offset"] == max(expected[p] - 2, state["beginning"][p] or 0)
        assert row["re_read"] == expected[p] - row["new_offset"]
    committed = offsets(bootstrap, group, CATEGORIZED)["committed"]
    assert committed == {p: row["new_offset"] for (_, p), row in back.items()}

    forward = rows(hotline(bootstrap, "replay", "jurisdiction", "--shift-by", "1000000000",
                           "--execute", "--json", **env))  # fmt: skip
    assert {p: row["new_offset"] for (_, p), row in forward.items()} == state["end"]
    assert offsets(bootstrap, group, CATEGORIZED)["committed"] == state["end"]
    later = rows(hotline(bootstrap, "replay", "jurisdiction", "--to-datetime",
                         "2100-01-01T00:00:00+00:00", "--json", **env))  # fmt: skip
    assert all(row["new_offset"] == row["end"] and row["re_read"] == 0 for row in later.values())


def test_to_datetime_and_shift_by_move_the_group_on_kafka(pipeline_bootstrap: str) -> None:
    moment, second = two_batches(pipeline_bootstrap, f"HL-RTIM-{uuid.uuid4().hex[:6].upper()}")
    check_time_and_shift(pipeline_bootstrap, second, MOMENT=moment)


def test_to_datetime_is_searched_on_tansu(tansu: TansuBroker) -> None:
    bootstrap = tansu.bootstrap
    settings = Settings(bootstrap=bootstrap, broker="tansu")
    asyncio.run(create_topics(settings, bootstrap))
    # Single-record batches, as the Tansu profile makes them (its end offsets need it).
    producer = profile_for("tansu").producer_settings()
    moment, second = two_batches(bootstrap, "HL-RTAN", **producer)
    check_time_and_shift(bootstrap, second, MOMENT=moment, HOTLINE_BROKER="tansu")
