"""The stage runner's per-event guarantees, without a broker: retries, dead letters, dedup."""

from __future__ import annotations

import asyncio
import base64

import faust

from pipeline.config import Settings
from pipeline.runtime.runner import (
    Inbound,
    Outbound,
    PermanentError,
    SeenWindow,
    StageProcessor,
    StageSpec,
)
from schemas import DeadLetter, SourceRef


def inbound(value: bytes = b"payload", offset: int = 1) -> Inbound:
    return Inbound(
        key=b"k",
        value=value,
        source=SourceRef(topic="hotline.in", partition=0, offset=offset, timestamp_ms=0),
        headers={},
    )


def processor(handler: object, **settings: object) -> StageProcessor:
    spec = StageSpec(
        name="probe",
        inputs=("hotline.in",),
        build=lambda app, s: handler,  # type: ignore[arg-type,return-value]
        identify=lambda message: message.value.decode(errors="replace"),
        redact=lambda raw: raw.replace(b"secret", b"[redacted]"),
    )
    config = Settings(max_retries=3, retry_backoff=0.001, **settings)  # type: ignore[arg-type]
    return StageProcessor(spec, spec.build(faust.App("probe"), config), config)


def test_output_passes_through() -> None:
    async def handler(message: Inbound) -> list[Outbound]:
        return [Outbound("hotline.out", b"k", message.value.upper())]

    outputs = asyncio.run(processor(handler).process(inbound()))
    assert [o.value for o in outputs] == [b"PAYLOAD"]


def test_transient_failure_is_retried_then_succeeds() -> None:
    calls = 0

    async def handler(message: Inbound) -> list[Outbound]:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise TimeoutError("dns timeout")
        return [Outbound("hotline.out", b"k", b"ok")]

    runner = processor(handler)
    outputs = asyncio.run(runner.process(inbound()))
    assert [o.topic for o in outputs] == ["hotline.out"]
    assert calls == 3 and runner.counters.retried == 2


def test_persistent_failure_is_dead_lettered_after_bounded_retries() -> None:
    calls = 0

    async def handler(message: Inbound) -> list[Outbound]:
        nonlocal calls
        calls += 1
        raise RuntimeError("bug")

    runner = processor(handler)
    [dead] = asyncio.run(runner.process(inbound(b"has a secret")))
    assert calls == 3
    assert dead.topic == "hotline.dlq.probe"
    record = DeadLetter.model_validate_json(dead.value)
    assert record.attempts == 3 and record.error_type == "RuntimeError"
    assert base64.b64decode(record.original_b64) == b"has a [redacted]"
    assert record.source.offset == 1


def test_permanent_error_skips_retries() -> None:
    calls = 0

    async def handler(message: Inbound) -> list[Outbound]:
        nonlocal calls
        calls += 1
        raise PermanentError("schema mismatch")

    [dead] = asyncio.run(processor(handler).process(inbound()))
    assert calls == 1
    assert DeadLetter.model_validate_json(dead.value).error == "schema mismatch"


def test_redelivered_input_is_dropped() -> None:
    async def handler(message: Inbound) -> list[Outbound]:
        return [Outbound("hotline.out", b"k", message.value)]

    runner = processor(handler)
    first = asyncio.run(runner.process(inbound(b"same", offset=1)))
    again = asyncio.run(runner.process(inbound(b"same", offset=2)))
    assert len(first) == 1 and again == []
    assert runner.counters.redeliveries_dropped == 1


def test_seen_window_forgets_the_oldest() -> None:
    window = SeenWindow(capacity=2)
    for key in ("a", "b", "c"):
        window.remember(key)
    assert not window.seen("a")
    assert window.seen("b") and window.seen("c")


def test_input_that_cannot_be_named_is_still_processed() -> None:
    async def handler(message: Inbound) -> list[Outbound]:
        return [Outbound("hotline.out", b"k", message.value)]

    runner = processor(handler)
    runner.spec = StageSpec(
        name="probe",
        inputs=("hotline.in",),
        build=runner.spec.build,
        identify=lambda message: message.value.decode(),  # fails on these bytes
    )
    outputs = asyncio.run(runner.process(inbound(b"\xff\xfe")))
    assert [o.value for o in outputs] == [b"\xff\xfe"]
