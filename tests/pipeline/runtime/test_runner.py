"""The stage runner's per-event guarantees, without a broker: retries, dead letters, dedup."""

from __future__ import annotations

import asyncio
import base64

import pytest

from pipeline.config import Settings
from pipeline.runtime.runner import SeenWindow, StageProcessor
from pipeline.runtime.stage import Inbound, Outbound, PermanentError, StageContext, StageSpec
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
        outputs=("hotline.out",),
        build=lambda context: handler,  # type: ignore[arg-type,return-value]
        identify=lambda message: message.value.decode(errors="replace"),
        redact=lambda raw: raw.replace(b"secret", b"[redacted]"),
    )
    config = Settings(max_retries=3, retry_backoff=0.001, **settings)  # type: ignore[arg-type]
    return StageProcessor(spec, spec.build(StageContext(config)), config)


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


def test_persistent_transient_failure_is_dead_lettered_after_bounded_retries() -> None:
    calls = 0

    async def handler(message: Inbound) -> list[Outbound]:
        nonlocal calls
        calls += 1
        raise ConnectionRefusedError("site down")

    runner = processor(handler)
    [dead] = asyncio.run(runner.process(inbound(b"has a secret")))
    assert calls == 3
    assert dead.topic == "hotline.dlq.probe"
    record = DeadLetter.model_validate_json(dead.value)
    assert record.attempts == 3 and record.error_type == "ConnectionRefusedError"
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
        outputs=("hotline.out",),
        build=runner.spec.build,
        identify=lambda message: message.value.decode(),  # fails on these bytes
    )
    outputs = asyncio.run(runner.process(inbound(b"\xff\xfe")))
    assert [o.value for o in outputs] == [b"\xff\xfe"]


@pytest.mark.parametrize(
    "error",
    [RuntimeError("bug"), ValueError("Invalid IPv6 URL"), KeyError("x"), OverflowError("year")],
)
def test_a_deterministic_failure_is_dead_lettered_at_once(error: Exception) -> None:
    calls = 0

    async def handler(message: Inbound) -> list[Outbound]:
        nonlocal calls
        calls += 1
        raise error

    [dead] = asyncio.run(processor(handler).process(inbound()))
    assert calls == 1
    assert DeadLetter.model_validate_json(dead.value).error_type == type(error).__name__


def test_a_huge_poison_input_makes_a_dead_letter_that_fits() -> None:
    async def handler(message: Inbound) -> list[Outbound]:
        raise PermanentError("not a case envelope")

    runner = processor(handler)
    huge = inbound(b"\x00garbage" * 100_000)  # ~900 KB, as a hostile producer may send
    [dead] = asyncio.run(runner.process(huge))
    assert len(dead.value) < runner.settings.max_message_bytes
    record = DeadLetter.model_validate_json(dead.value)
    assert record.original_truncated and record.original_size == len(huge.value)
    assert len(base64.b64decode(record.original_b64)) == runner.settings.dead_letter_bytes_cap


def test_an_output_too_large_to_produce_is_dead_lettered_not_sent() -> None:
    async def handler(message: Inbound) -> list[Outbound]:
        return [Outbound("hotline.out", b"k", message.value * 2)]

    runner = processor(handler)
    [dead] = asyncio.run(runner.process(inbound(b"x" * 600_000)))
    assert dead.topic == "hotline.dlq.probe"
    assert DeadLetter.model_validate_json(dead.value).error_type == "OutputTooLarge"


def test_an_input_the_stage_dead_lettered_itself_is_taken_again() -> None:
    """Delivery dead-letters a notice past its retry budget; `hotline dlq replay` sends it
    back, and the running worker must take it, not drop it as a redelivery."""
    calls = 0

    async def handler(message: Inbound) -> list[Outbound]:
        nonlocal calls
        calls += 1
        return [Outbound("hotline.dlq.probe", b"k", b"gave up")] if calls == 1 else []

    runner = processor(handler)
    asyncio.run(runner.process(inbound()))
    asyncio.run(runner.process(inbound(offset=2)))  # the replayed letter
    assert calls == 2
    asyncio.run(runner.process(inbound(offset=3)))  # taken this time: a repeat is dropped
    assert calls == 2 and runner.counters.redeliveries_dropped == 1
