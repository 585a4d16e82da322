"""`hotline bench received`: the stage against two relays, on one broker, in one run.

The raw aiokafka relay (consume, produce, commit) is the ceiling of any Kafka client in
Python; the Faust relay (pipeline/cli/bench/relay.py) is an empty stage run by the stages' own
worker machinery, so the stage's ratio to it is what the stage's own work costs. The benchmark
starts its own embedded broker in a temporary directory, so it never mixes its reports with
real cases. All three get the same reports on identically partitioned topics, one after the
other; throughput is reports over the span between their first and last output record
(broker-side record times), so start-up and group joins are not counted for any of them.
"""

from __future__ import annotations

import asyncio
import random
import sys
from datetime import UTC, datetime
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from rich.console import Console

from pipeline.cli.bench.relay import FAUST_RELAY_OUT, RELAY_IN
from pipeline.cli.bench.scratch import output_span, publish, scratch_broker, start_worker
from pipeline.cli.stages import stage_spec
from pipeline.cli.workers import worker_command
from pipeline.config import Settings
from pipeline.runtime.profile import profile_for
from pipeline.runtime.topics import INTAKE, REJECTED, load_topics

RELAY_OUT = "bench.relay-out"
TARGET_RATIO = 0.40  # of the raw relay
TARGET_RATIO_TO_FAUST_RELAY = 0.70
_CATEGORIES = ["terrorism", "extremism", "hate", "drugs", "gambling", "financial_pyramid"]


def sample_reports(count: int, seed: int = 7) -> list[tuple[bytes, bytes]]:
    """(key, value) pairs: realistic reports, a tenth of them repeats of an earlier URL."""
    rng = random.Random(seed)
    reports = []
    for n in range(count):
        site = rng.randrange(n // 10 + 1) if n % 10 == 0 else n
        host = f"site{site}.example.kz"
        document: dict[str, Any] = {
            "url": f"https://{host}/posts/{site}?ref=feed",
            "category": rng.choice(_CATEGORIES),
            "description": "Жалоба на противоправный контент: " + "текст " * 60,
            "language": "ru",
            "channel": "web_form",
            "submitted_at": datetime.now(UTC).isoformat(),
            "submission_id": f"bench-{seed}-{n}",
        }
        if n % 4 == 0:
            document["contact"] = {"email": f"reporter{n}@example.kz"}
        reports.append((host.encode(), orjson.dumps(document)))
    return reports


async def raw_relay(settings: Settings, bootstrap: str, expected: int) -> None:
    """Consume → produce, no logic: the ceiling a stage is measured against."""
    profile = profile_for(settings.broker)
    consumer = AIOKafkaConsumer(
        RELAY_IN,
        bootstrap_servers=bootstrap,
        group_id="bench-relay",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_poll_records=settings.batch_size,
        **profile.consumer_settings(),
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **profile.producer_settings())
    await consumer.start()
    await producer.start()
    relayed = 0
    try:
        while relayed < expected:
            batches = await consumer.getmany(timeout_ms=500, max_records=settings.batch_size)
            pending = [
                await producer.send(RELAY_OUT, record.value, key=record.key)
                for batch in batches.values()
                for record in batch
            ]
            await asyncio.gather(*pending)
            await consumer.commit()
            relayed += len(pending)
    finally:
        await consumer.stop()
        await producer.stop()


async def run_received_bench(settings: Settings, reports: int, console: Console) -> dict[str, Any]:
    async with scratch_broker(settings, console) as bench_settings:
        return await _measure(bench_settings, reports, console)


async def _measure(settings: Settings, count: int, console: Console) -> dict[str, Any]:
    bootstrap = settings.bootstrap or ""
    partitions = load_topics(settings.topics_file)[INTAKE].partitions
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    relay_topics = (RELAY_IN, RELAY_OUT, FAUST_RELAY_OUT)
    await admin.create_topics([NewTopic(t, partitions, 1) for t in relay_topics])
    await admin.close()

    reports = sample_reports(count)
    console.print(f"publishing {count} reports twice (stage input, relay input)")
    await publish(settings, bootstrap, INTAKE, reports)
    await publish(settings, bootstrap, RELAY_IN, reports)

    console.print("raw aiokafka relay running")
    relay = asyncio.create_task(raw_relay(settings, bootstrap, count))
    relay_s = await output_span(bootstrap, [RELAY_OUT], count, timeout=600)
    await relay

    console.print("Faust relay worker running (an empty stage)")
    faust_s = await _worker_span(
        settings,
        [sys.executable, "-m", "pipeline.cli.bench.relay"],
        [FAUST_RELAY_OUT],
        count,
    )

    console.print("received stage worker running")
    stage_s = await _worker_span(
        settings, worker_command("received"), [stage_spec("received").forward, REJECTED], count
    )

    stage_rate, relay_rate, faust_rate = count / stage_s, count / relay_s, count / faust_s
    ratio, ratio_to_faust = stage_rate / relay_rate, stage_rate / faust_rate
    return {
        "reports": count,
        "broker": settings.broker,
        "stage_reports_per_s": round(stage_rate),
        "raw_relay_reports_per_s": round(relay_rate),
        "faust_relay_reports_per_s": round(faust_rate),
        "ratio": round(ratio, 3),
        "target_ratio": TARGET_RATIO,
        "meets_target": ratio >= TARGET_RATIO,
        "ratio_to_faust_relay": round(ratio_to_faust, 3),
        "target_ratio_to_faust_relay": TARGET_RATIO_TO_FAUST_RELAY,
        "meets_target_to_faust_relay": ratio_to_faust >= TARGET_RATIO_TO_FAUST_RELAY,
    }


async def _worker_span(
    settings: Settings, command: list[str], outputs: list[str], count: int
) -> float:
    worker = start_worker(settings, command)
    try:
        return await output_span(settings.bootstrap or "", outputs, count, timeout=600)
    finally:
        worker.terminate()
        worker.wait(timeout=60)
