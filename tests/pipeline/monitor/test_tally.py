"""Counting what the stages put out and timing each stage against the event that caused it."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import orjson
import pytest

from pipeline.config import Settings
from pipeline.ledger.store import LedgerMessage, ledger_topics
from pipeline.monitor.latency import LATENCY_BOUNDS_S, Latencies
from pipeline.monitor.tally import StageTally, read_event
from pipeline.runtime.topics import DELIVERIES, REJECTED
from pipeline.sandbox.histories import case_history
from schemas import Category

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
KINDS = ledger_topics(Settings())
WRITERS = {REJECTED: "received", DELIVERIES: "delivery"}


def feed(tally: StageTally, messages: list[LedgerMessage]) -> None:
    for message in messages:
        event = read_event(message.value, KINDS[message.topic], WRITERS.get(message.topic))
        if event is not None:
            tally.add(event)


def test_events_are_counted_by_stage_and_outcome() -> None:
    tally = StageTally()
    feed(tally, case_history("HL-TALY-0001", "a.kz", Category.gambling, START))
    feed(tally, case_history("HL-TALY-0002", "b.kz", Category.hate, START, ending="terminated"))
    feed(tally, case_history("HL-TALY-0003", "c.kz", Category.drugs, START, ending="review"))
    rows = {row.stage: row for row in tally.stage_counts({"received": 0, "content-check": 2})}
    assert list(rows)[:2] == ["received", "content-check"]  # the watched ones first
    assert rows["received"].processed == 3
    assert rows["content-check"].outcomes == {"continue": 2, "terminated": 1}
    assert rows["content-check"].terminated == 1 and rows["content-check"].dead_lettered == 2
    assert rows["categorize"].review == 1 and rows["categorize"].processed == 2
    assert rows["dispatch"].outcomes == {"continue": 1}
    # Receipts count as the delivery worker's events, by their status.
    assert rows["delivery"].outcomes == {"confirmed": 1, "delivered": 1}
    assert rows["delivery"].dead_lettered == 0


def test_latency_is_the_time_since_the_causing_event() -> None:
    tally = StageTally()
    feed(tally, case_history("HL-TALY-0004", "a.kz", Category.gambling, START))
    rows = {row.stage: row for row in tally.stage_counts({})}
    # The history's events are 1 s (url-verify) and 3 s (content-check) after their causes.
    assert rows["url-verify"].latency_p50_s == pytest.approx(1.0)
    assert rows["content-check"].latency_p90_s == pytest.approx(3.0)
    # The first stage's cause (the intake report) is no event the monitor saw.
    assert rows["received"].latency_p50_s is None and rows["received"].latency is None
    histogram = tally.latency_buckets()["url-verify"]
    assert histogram.count == 1 and histogram.sum_s == pytest.approx(1.0)
    at_one = histogram.bounds_s.index(1.0)
    assert histogram.cumulative[at_one - 1] == 0 and histogram.cumulative[at_one] == 1
    assert histogram.cumulative[-1] == 1


def test_only_the_last_events_are_remembered_as_causes() -> None:
    tally = StageTally(memory=1)
    feed(tally, case_history("HL-TALY-0005", "a.kz", Category.gambling, START)[:3])
    # received → url-verify timed; url-verify's id pushed received's out, then
    # content-check still found url-verify: each event remembers only the one before.
    assert set(tally.latencies) == {"url-verify", "content-check"}
    tally = StageTally(memory=1)
    first, second = (
        case_history(f"HL-TALY-000{n}", "a.kz", Category.gambling, START) for n in (6, 7)
    )
    feed(tally, [first[0], second[0], first[1]])  # first's cause forgotten by then
    assert "url-verify" not in tally.latencies


def test_a_rejection_is_the_received_stages_and_garbage_is_nothing() -> None:
    rejection = orjson.dumps(
        {"event_id": "rj-1", "causation_id": "x", "rejected_at": "2026-11-02T09:00:00Z"}
    )
    event = read_event(rejection, "rejection", "received")
    assert event is not None and (event.stage, event.outcome) == ("received", "rejected")
    tally = StageTally()
    tally.add(event)
    assert tally.counts("received", 0).rejected == 1
    for raw in (b"not json", b"[1, 2]", b'{"event_id": 3}', None):
        assert read_event(raw, "envelope", None) is None
    assert read_event(b'{"event_id": "n"}', "notice", "dispatch") is None  # not counted


def test_the_envelope_head_reads_as_the_whole_envelope() -> None:
    [message] = case_history("HL-TALY-0008", "a.kz", Category.gambling, START)[:1]
    head = read_event(message.value, "envelope", None)
    document = orjson.loads(message.value)
    assert head is not None
    assert (head.event_id, head.stage, head.causation_id) == (
        document["event_id"],
        document["stage"],
        document["causation_id"],
    )
    # A reason that looks like the case's start falls back to reading the whole.
    tricky = document | {"reason": 'x,"case":{'}
    event = read_event(orjson.dumps(tricky), "envelope", None)
    assert event is not None and event.event_id == document["event_id"]


def test_latencies_keep_a_bounded_sample_and_count_every_one() -> None:
    latencies = Latencies(capacity=50, draw=random.Random(3))
    for n in range(10_000):
        latencies.add(n / 1000)  # 0 … 10 s, evenly
    assert len(latencies.kept) == 50 and latencies.count == 10_000
    p50 = latencies.percentile(0.5)
    assert p50 is not None and 3.0 < p50 < 7.0
    histogram = latencies.histogram()
    assert histogram.count == 10_000
    assert histogram.cumulative[LATENCY_BOUNDS_S.index(10.0)] == 10_000
    assert histogram.cumulative == sorted(histogram.cumulative)
    latencies.add(-0.5)  # a cause stamped a hair after its effect: zero
    assert latencies.histogram().cumulative[0] == 6 + 1  # 0, 0.001 … 0.005 s, and it
    assert Latencies(4).percentile(0.5) is None
