"""The per-event guarantees every stage gets, whatever runs it (a Faust worker or the harness):

- redelivered inputs dropped by id (a bounded in-memory window; outputs carry deterministic
  event ids, so a duplicate that slips through is dropped downstream);
- transient failures (network, broker) retried with backoff; anything else (a bad value, a
  schema mismatch, a bug) fails the same way every time, so it is dead-lettered at once;
- a dead letter keeps the error and the original bytes, capped so it always fits on the broker;
- no input can stop a stage: not one that raises, and not one whose outputs would be too large
  to produce.
"""

from __future__ import annotations

import asyncio
import base64
import functools
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime

import aiohttp
import structlog
from aiokafka.errors import KafkaError

from pipeline import __version__
from pipeline.config import Settings
from pipeline.runtime.stage import Handler, Inbound, Outbound, PermanentError, StageSpec
from pipeline.runtime.topics import dead_letter_topic
from schemas import DeadLetter, Producer

log = structlog.get_logger("hotline.runner")

# Failures that may pass: the network, a broker away. Anything else is deterministic.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # ConnectionError, TimeoutError and the like
    asyncio.TimeoutError,
    aiohttp.ClientError,
    KafkaError,
)
_KEY_BYTES_KEPT = 1024


@functools.cache  # one frozen model per stage, not one per event
def producer_identity(stage: str) -> Producer:
    return Producer(service=f"hotline-{stage}", version=__version__)


class SeenWindow:
    """The most recent input ids of this worker, to drop redeliveries cheaply."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()

    def seen(self, input_id: str) -> bool:
        if input_id in self._ids:
            self._ids.move_to_end(input_id)
            return True
        return False

    def remember(self, input_id: str) -> None:
        self._ids[input_id] = None
        if len(self._ids) > self.capacity:
            self._ids.popitem(last=False)


@dataclass
class StageCounters:
    processed: int = 0
    outputs: int = 0
    redeliveries_dropped: int = 0
    retried: int = 0
    dead_lettered: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def dead_letter(
    spec: StageSpec, inbound: Inbound, error: BaseException, attempts: int, cap: int
) -> Outbound:
    kept = spec.redact(inbound.value)
    key = inbound.key[:_KEY_BYTES_KEPT] if inbound.key is not None else None
    record = DeadLetter(
        stage=spec.name,
        failed_at=datetime.now(UTC),
        error_type=type(error).__name__,
        error=str(error)[:2000],
        attempts=attempts,
        source=inbound.source,
        key_b64=base64.b64encode(key).decode() if key is not None else None,
        original_b64=base64.b64encode(kept[:cap]).decode(),
        original_size=len(inbound.value),
        original_truncated=len(kept) > cap,
    )
    return Outbound(
        topic=dead_letter_topic(spec.name),
        key=key or f"{inbound.source.partition}:{inbound.source.offset}".encode(),
        value=record.model_dump_json().encode(),
    )


class OutputTooLarge(PermanentError):
    """An output would exceed the broker's message limit: producing it would fail forever."""


class StageProcessor:
    """Runs the handler on one input with redelivery dropping, retries and dead letters."""

    def __init__(self, spec: StageSpec, handler: Handler, settings: Settings) -> None:
        self.spec = spec
        self.handler = handler
        self.settings = settings
        self.window = SeenWindow(settings.dedup_memory)
        self.counters = StageCounters()

    async def process(self, inbound: Inbound) -> list[Outbound]:
        try:
            identity = self.spec.identify(inbound)
        except Exception:  # an input the stage cannot even name is still processed once
            identity = None
        # One input may pass a stage twice through different topics (a rekeyed report).
        input_id = None if identity is None else f"{inbound.source.topic}|{identity}"
        if input_id is not None and self.window.seen(input_id):
            self.counters.redeliveries_dropped += 1
            return []
        attempts = 0
        while True:
            attempts += 1
            try:
                outputs = self._fitting(await self.handler(inbound))
                break
            except TRANSIENT_ERRORS as error:
                if attempts >= self.settings.max_retries:
                    return [self._dead(inbound, error, attempts)]
                self.counters.retried += 1
                log.warning(
                    "retrying event",
                    stage=self.spec.name,
                    attempt=attempts,
                    error=repr(error)[:500],
                    offset=inbound.source.offset,
                    partition=inbound.source.partition,
                )
                await asyncio.sleep(self.settings.retry_backoff * 2 ** (attempts - 1))
            except Exception as error:  # permanent: the same input fails the same way again
                return [self._dead(inbound, error, attempts)]
        # An input the stage dead-lettered itself (delivery's notice past its retry budget) is
        # not done: a replay of the letter must be taken, not dropped as a redelivery.
        letters = dead_letter_topic(self.spec.name)
        if input_id is not None and not any(out.topic == letters for out in outputs):
            self.window.remember(input_id)
        self.counters.processed += 1
        self.counters.outputs += len(outputs)
        for out in outputs:
            if out.event_id is not None:
                log.debug(
                    "event produced",
                    stage=self.spec.name,
                    case_id=out.case_id,
                    event_id=out.event_id,
                    topic=out.topic,
                )
        return outputs

    def _fitting(self, outputs: list[Outbound]) -> list[Outbound]:
        limit = self.settings.max_message_bytes
        for out in outputs:
            size = len(out.key) + len(out.value) + sum(map(len, out.headers.values()))
            if size > limit:
                raise OutputTooLarge(f"an output to {out.topic} is {size} bytes; at most {limit}")
        return outputs

    def _dead(self, inbound: Inbound, error: BaseException, attempts: int) -> Outbound:
        self.counters.dead_lettered += 1
        log.error(
            "dead-lettered event",
            stage=self.spec.name,
            attempts=attempts,
            error_type=type(error).__name__,
            error=str(error)[:500],
            topic=inbound.source.topic,
            partition=inbound.source.partition,
            offset=inbound.source.offset,
        )
        return dead_letter(self.spec, inbound, error, attempts, self.settings.dead_letter_bytes_cap)
