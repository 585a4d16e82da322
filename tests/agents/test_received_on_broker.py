"""The received stage wired on a real broker: every intake message is accounted for exactly once."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from agents.received import INTAKE_REKEYED, LEDGER_CONTACTS, RECEIVED
from pipeline.config import BrokerKind
from pipeline.runtime.kafka_io import read_topic
from pipeline.runtime.profile import profile_for
from pipeline.runtime.topics import INTAKE, REJECTED, create_topics
from tests.fixtures.broker import needs_own_broker
from tests.fixtures.stage import StageWorkerFactory, wait_until

pytestmark = pytest.mark.broker


@dataclass
class Sent:
    key: bytes | None
    value: bytes
    submission_id: str | None
    valid: bool
    repeat_group: str | None = None  # reports of one URL
    causation: str = ""


def valid_report(url: str, submission_id: str | None, **extra: Any) -> bytes:
    document = {
        "url": url,
        "category": random.choice(["terrorism", "hate", "drugs", "gambling", "csam"]),
        "description": "Тестовая жалоба / test report / сынақ",
        "channel": "web_form",
        "submitted_at": "2026-11-23T10:00:00+06:00",
        **extra,
    }
    if submission_id:
        document["submission_id"] = submission_id
    return orjson.dumps(document)


def bad_reports(run: str) -> list[bytes]:
    base = {"category": "hate", "channel": "api", "submitted_at": "2026-11-23T10:00:00Z"}
    return [
        b'{"url": "https://broken',
        b"\xff\xfe\xfd not utf-8",
        orjson.dumps({**base, "url": "javascript:alert(1)"}),
        orjson.dumps({**base, "url": "file:///etc/passwd"}),
        orjson.dumps({**base, "url": "data:text/html,<script>x</script>"}),
        orjson.dumps({**base, "url": f"https://{run}.example.kz/" + "a" * 2100}),
        orjson.dumps({**base, "url": f"https://{run}.example.kz/", "category": "spam"}),
        orjson.dumps({**base, "url": f"https://{run}.example.kz/", "description": "x" * 70_000}),
        orjson.dumps({**base, "url": f"https://{run}.example.kz/", "unexpected": True}),
        orjson.dumps(base),
        orjson.dumps(
            {
                **base,
                "url": f"https://{run}.example.kz/",
                "contact": {"email": "a@b.kz"},
                "category": "nope",
            }
        ),
    ]


def mixed_batch(run: str, count: int) -> list[Sent]:
    """Valid reports (a third keyed by host, the rest by anything, so many take the rekeyed
    hop), repeats of URLs, re-sent submissions, and every kind of bad input."""
    rng = random.Random(run)
    sent: list[Sent] = []
    bad = bad_reports(run)
    while len(sent) < count:
        n = len(sent)
        kind = n % 10
        if kind in (0, 1, 2, 3, 4):
            host = f"site{n}-{run}.example.kz"
            key = rng.choice([host.encode(), uuid.uuid4().bytes, None])
            sid = f"{run}-{n}" if n % 2 else None
            contact = {"contact": {"email": f"reporter{n}@mail.kz"}} if n % 3 == 0 else {}
            sent.append(Sent(key, valid_report(f"https://{host}/p", sid, **contact), sid, True))
        elif kind in (5, 6):
            group = f"repeat{n // 10}"
            url = f"HTTPS://{group}-{run}.Example.KZ/same?x=1#{n}"
            sid = f"{run}-{n}"
            sent.append(Sent(uuid.uuid4().bytes, valid_report(url, sid), sid, True, group))
        elif kind == 7:
            sid = f"{run}-resent-{n}"
            host = f"resent{n}-{run}.example.kz"
            value = valid_report(f"https://{host}/", sid)
            sent.append(Sent(None, value, sid, True))
            sent.append(Sent(None, value, sid, True))  # the intake service retried
        else:
            sent.append(Sent(None, bad[n % len(bad)], None, False))
    return sent[:count]


async def produce(bootstrap: str, batch: list[Sent], broker: BrokerKind = "kafka") -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, **profile_for(broker).producer_settings()
    )
    await producer.start()
    try:
        futures = [await producer.send(INTAKE, s.value, key=s.key) for s in batch]
        for sent, future in zip(batch, futures, strict=True):
            meta = await future
            sent.causation = (
                f"submission:{sent.submission_id}"
                if sent.submission_id
                else f"intake:{meta.partition}:{meta.offset}"
            )
    finally:
        await producer.stop()


def outcomes(
    bootstrap: str, causations: set[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    async def read() -> tuple[list[Any], list[Any]]:
        return await read_topic(bootstrap, RECEIVED), await read_topic(bootstrap, REJECTED)

    received, rejected = asyncio.run(read())
    mine_received = [
        d for d in map(lambda r: orjson.loads(r.value), received) if d["causation_id"] in causations
    ]
    mine_rejected = [
        d for d in map(lambda r: orjson.loads(r.value), rejected) if d["causation_id"] in causations
    ]
    return mine_received, mine_rejected


def accounted(bootstrap: str, batch: list[Sent]) -> set[str]:
    causations = {s.causation for s in batch}
    received, rejected = outcomes(bootstrap, causations)
    return {d["causation_id"] for d in received} | {d["causation_id"] for d in rejected}


def assert_exactly_once(bootstrap: str, batch: list[Sent]) -> list[dict[str, Any]]:
    """Each input in exactly one of received/rejected, one event id each; returns the cases."""
    causations = {s.causation for s in batch}
    received, rejected = outcomes(bootstrap, causations)
    by_causation: dict[str, set[str]] = defaultdict(set)
    for document in received + rejected:
        by_causation[document["causation_id"]].add(document["event_id"])
    assert set(by_causation) == causations
    assert all(len(ids) == 1 for ids in by_causation.values()), "one event id per input"
    valid = {s.causation for s in batch if s.valid}
    assert {d["causation_id"] for d in received} == valid
    assert {d["causation_id"] for d in rejected} == causations - valid
    cases: dict[str, dict[str, Any]] = {}
    for document in received:
        earlier = cases.setdefault(document["event_id"], document)
        assert earlier["case"] == document["case"], "a replay decides the same"
    return list(cases.values())


def assert_repeats_linked(cases: list[dict[str, Any]], batch: list[Sent]) -> None:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    causation_group = {s.causation: s.repeat_group for s in batch if s.repeat_group}
    for case in cases:
        group = causation_group.get(case["causation_id"])
        if group:
            groups[group].append(case["case"]["report"])
    assert groups
    for reports in groups.values():
        firsts = [r for r in reports if r["duplicate_of"] is None]
        assert len(firsts) == 1
        first_case = next(c["case_id"] for c in cases if c["case"]["report"] is firsts[0])
        assert all(r["duplicate_of"] == first_case for r in reports if r is not firsts[0])
        assert sorted(r["report_number"] for r in reports) == list(range(1, len(reports) + 1))
        assert len({r["url"] for r in reports}) == 1


def test_mixed_reports_accounted_exactly_once_across_a_crash(
    pipeline_bootstrap: str, stage_worker: StageWorkerFactory
) -> None:
    run = uuid.uuid4().hex[:8]
    batch = mixed_batch(run, 500)
    head, tail = batch[:250], batch[250:]
    asyncio.run(produce(pipeline_bootstrap, head))
    expected = {s.causation for s in head}

    worker = stage_worker()
    wait_until(lambda: bool(accounted(pipeline_bootstrap, head)), 120, "the first outputs")
    # Kill while the rest streams in: work is done whose offsets are not committed yet
    # (commits run every half second) and will be redelivered to the next worker.
    asyncio.run(produce(pipeline_bootstrap, tail))
    time.sleep(0.5)
    worker.kill()
    expected |= {s.causation for s in tail}
    stage_worker()
    wait_until(
        lambda: accounted(pipeline_bootstrap, batch) == expected,
        timeout=180,
        what="every report accounted for after the restart",
    )
    cases = assert_exactly_once(pipeline_bootstrap, batch)
    assert_repeats_linked(cases, batch)

    received, rejected = outcomes(pipeline_bootstrap, expected)
    reasons = Counter(d["reason"] for d in rejected)
    assert {
        "malformed_json",
        "invalid_utf8",
        "url_scheme_not_allowed",
        "url_too_long",
        "unknown_category",
        "payload_too_large",
        "unknown_field",
        "missing_url",
    } <= set(reasons)
    # The reporter's contact never leaves the ledger.
    assert not any(b"@mail.kz" in orjson.dumps(d) for d in received)
    assert not any(b"a@b.kz" in orjson.dumps(d) for d in rejected)
    contacts = asyncio.run(read_topic(pipeline_bootstrap, LEDGER_CONTACTS))
    with_contact = {c["case_id"] for c in cases if c["case"]["report"]["has_contact"]}
    stored = {orjson.loads(r.value)["case_id"] for r in contacts if b"@mail.kz" in r.value}
    assert with_contact and with_contact <= stored


def test_two_workers_split_the_partitions(
    pipeline_bootstrap: str, stage_worker: StageWorkerFactory
) -> None:
    first, second = stage_worker(), stage_worker()
    batch = mixed_batch(uuid.uuid4().hex[:8], 100)
    asyncio.run(produce(pipeline_bootstrap, batch))
    expected = {s.causation for s in batch}
    wait_until(lambda: accounted(pipeline_bootstrap, batch) == expected, 180, "the batch")
    assert_exactly_once(pipeline_bootstrap, batch)

    def latest_assignment(worker: Any) -> set[str]:
        events = worker.log_events("partitions assigned")
        return set(events[-1]["partitions"]) if events else set()

    def split() -> bool:
        # Each worker logs its own new assignment when its rebalance ends, one after the
        # other: wait for the split itself, not for two log lines.
        mine, theirs = latest_assignment(first), latest_assignment(second)
        # 4 partitions of hotline.intake and of the rekeyed topic
        return bool(mine and theirs) and mine.isdisjoint(theirs) and len(mine | theirs) == 8

    wait_until(split, 60, "the two workers to split the 8 partitions between them")


def lag(bootstrap: str, topic: str = INTAKE, group: str = "hotline-received") -> int:
    """Messages of `topic` not yet committed by the stage's group."""

    async def measure() -> int:
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group)
        await consumer.start()
        try:
            inputs = [TopicPartition(topic, p) for p in range(4)]
            ends = await consumer.end_offsets(inputs)
            committed = [await consumer.committed(tp) or 0 for tp in inputs]
            return sum(ends[tp] - done for tp, done in zip(inputs, committed, strict=True))
        finally:
            await consumer.stop()

    return asyncio.run(measure())


def uncommitted(bootstrap: str) -> int:
    return lag(bootstrap, INTAKE) + lag(bootstrap, INTAKE_REKEYED)


@needs_own_broker
def test_cases_survive_a_broker_restart(
    kafka: Any, pipeline_bootstrap: str, stage_worker: StageWorkerFactory
) -> None:
    first_batch = mixed_batch(uuid.uuid4().hex[:8], 60)
    asyncio.run(produce(pipeline_bootstrap, first_batch))
    worker = stage_worker()
    expected_first = {s.causation for s in first_batch}
    wait_until(lambda: accounted(pipeline_bootstrap, first_batch) == expected_first, 120, "batch 1")
    wait_until(lambda: uncommitted(pipeline_bootstrap) == 0, 60, "batch 1 offsets committed")
    assert worker.stop() == 0
    emitted_before = sum(len(x) for x in outcomes(pipeline_bootstrap, expected_first))

    kafka.stop()
    kafka.start()
    assert kafka.bootstrap == pipeline_bootstrap

    assert_exactly_once(pipeline_bootstrap, first_batch)  # still on disk
    second_batch = mixed_batch(uuid.uuid4().hex[:8], 60)
    asyncio.run(produce(pipeline_bootstrap, second_batch))
    stage_worker()
    expected_second = {s.causation for s in second_batch}
    wait_until(
        lambda: accounted(pipeline_bootstrap, second_batch) == expected_second, 120, "batch 2"
    )
    assert_exactly_once(pipeline_bootstrap, second_batch)
    # Resumed from the committed offsets: nothing of batch 1 was processed again.
    assert sum(len(x) for x in outcomes(pipeline_bootstrap, expected_first)) == emitted_before


def test_a_clean_stop_commits_what_was_finished(
    pipeline_bootstrap: str, stage_worker: StageWorkerFactory
) -> None:
    # No timed commits: only the stop itself can commit.
    worker = stage_worker(HOTLINE_COMMIT_INTERVAL="3600")
    batch = mixed_batch(uuid.uuid4().hex[:8], 80)
    asyncio.run(produce(pipeline_bootstrap, batch))
    expected = {s.causation for s in batch}
    wait_until(lambda: accounted(pipeline_bootstrap, batch) == expected, 120, "the batch")
    assert uncommitted(pipeline_bootstrap) > 0
    assert worker.stop() == 0
    assert uncommitted(pipeline_bootstrap) == 0


def test_end_to_end_on_tansu(
    tansu: Any, stage_worker: StageWorkerFactory, broker_settings: Any
) -> None:
    settings = broker_settings.model_copy(update={"broker": "tansu", "bootstrap": tansu.bootstrap})
    asyncio.run(create_topics(settings, tansu.bootstrap))
    batch = mixed_batch(uuid.uuid4().hex[:8], 120)
    asyncio.run(produce(tansu.bootstrap, batch, "tansu"))
    stage_worker(bootstrap=tansu.bootstrap, HOTLINE_BROKER="tansu")
    expected = {s.causation for s in batch}
    wait_until(lambda: accounted(tansu.bootstrap, batch) == expected, 180, "the batch on Tansu")
    cases = assert_exactly_once(tansu.bootstrap, batch)
    assert_repeats_linked(cases, batch)
