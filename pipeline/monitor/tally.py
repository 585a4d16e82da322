"""What the stages put out, counted by stage and outcome, and how long each event took: its
time less the time of the event that caused it, the time a case spent waiting for and in the
stage. Pure: records in, figures out (`pipeline/monitor/tail.py` feeds it from the topics).
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import orjson

from pipeline.monitor.latency import Latencies
from schemas.monitor import LatencyHistogram, StageCounts

# The record kinds (topics.yaml `ledger:`) whose events the monitor counts.
COUNTED_KINDS = ("envelope", "rejection", "delivery_receipt")
# Envelopes as pydantic writes them carry the case snapshot last: the fields before it are all
# the monitor needs, and they are a few hundred bytes of a few kilobytes.
_CASE = b',"case":'


@dataclass(frozen=True)
class StageEvent:
    event_id: str
    stage: str
    outcome: str
    occurred_at: float  # UNIX seconds
    causation_id: str | None


def _seconds(text: object) -> float | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


def _document(raw: bytes, head_only: bool) -> dict[str, object] | None:
    try:
        if head_only:
            cut = raw.find(_CASE)
            if cut > 0:
                try:
                    head = orjson.loads(raw[:cut] + b"}")
                    if isinstance(head, dict) and "outcome" in head:
                        return head
                except orjson.JSONDecodeError:
                    pass  # `,"case":` inside a string: read it whole
        document = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return document if isinstance(document, dict) else None


def read_event(raw: bytes | None, kind: str, writer: str | None) -> StageEvent | None:
    """The event a record of `kind` is, or None for one that is not (a stage dead-letters
    those). `writer`: the stage that writes the topic, for records that do not say."""
    if raw is None:
        return None
    document = _document(raw, head_only=kind == "envelope")
    if document is None:
        return None
    event_id = document.get("event_id")
    if kind == "envelope":
        stage, outcome = document.get("stage"), document.get("outcome")
        at, cause = _seconds(document.get("occurred_at")), document.get("causation_id")
    elif kind == "rejection":
        stage, outcome = writer, "rejected"
        at, cause = _seconds(document.get("rejected_at")), None
    elif kind == "delivery_receipt":
        key, outcome = document.get("idempotency_key"), document.get("status")
        event_id = f"{key}:{outcome}"
        stage, at, cause = writer, _seconds(document.get("at")), None
    else:
        return None
    if not (isinstance(stage, str) and isinstance(outcome, str) and isinstance(event_id, str)):
        return None
    if at is None:
        return None
    return StageEvent(event_id, stage, outcome, at, cause if isinstance(cause, str) else None)


class StageTally:
    """Counts by stage and outcome; latencies per stage against the causing event's time,
    looked up among the last `memory` events seen."""

    def __init__(self, memory: int = 200_000, reservoir: int = 4096) -> None:
        self.memory = memory
        self.reservoir = reservoir
        self.outcomes: dict[str, Counter[str]] = {}
        self.latencies: dict[str, Latencies] = {}
        self._times: OrderedDict[str, float] = OrderedDict()

    def add(self, event: StageEvent) -> None:
        self.outcomes.setdefault(event.stage, Counter())[event.outcome] += 1
        cause = self._times.get(event.causation_id) if event.causation_id else None
        if cause is not None:
            latencies = self.latencies.get(event.stage)
            if latencies is None:
                latencies = self.latencies[event.stage] = Latencies(self.reservoir)
            latencies.add(event.occurred_at - cause)
        if event.event_id not in self._times:
            self._times[event.event_id] = event.occurred_at
            if len(self._times) > self.memory:
                self._times.popitem(last=False)

    def counts(self, stage: str, dead_lettered: int) -> StageCounts:
        outcomes = self.outcomes.get(stage, Counter())
        latencies = self.latencies.get(stage)
        return StageCounts(
            stage=stage,
            processed=sum(outcomes.values()),
            terminated=outcomes["terminated"],
            review=outcomes["review"],
            rejected=outcomes["rejected"],
            outcomes=dict(sorted(outcomes.items())),
            dead_lettered=dead_lettered,
            latency_p50_s=latencies.percentile(0.5) if latencies else None,
            latency_p90_s=latencies.percentile(0.9) if latencies else None,
            latency=latencies.histogram() if latencies else None,
        )

    def stage_counts(self, dead_letters: Mapping[str, int]) -> list[StageCounts]:
        """One row per stage in `dead_letters`' order (every watched one), then any other
        that wrote to a watched topic."""
        stages = [*dead_letters, *(s for s in self.outcomes if s not in dead_letters)]
        return [self.counts(stage, dead_letters.get(stage, 0)) for stage in stages]

    def latency_buckets(self) -> dict[str, LatencyHistogram]:
        """Each stage's latency histogram (Prometheus buckets), for `/metrics`."""
        return {stage: latencies.histogram() for stage, latencies in self.latencies.items()}
