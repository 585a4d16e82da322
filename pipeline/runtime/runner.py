"""The stage runner: one function turns a stage definition into a Faust app and worker.

Every stage gets the same guarantees from here, so stage modules hold only their own logic:
- its own app id and consumer group `hotline-<stage>`, starting from the earliest offset;
- events run in batches (a stage with state, in order) or up to `concurrency` at a time (a
  stage waiting on the network); an event's outputs are *delivered* before its offset counts
  as finished, and offsets are committed only below the oldest unfinished event
  (pipeline/offsets.py), so the output always exists before the input is committed;
- redelivered inputs dropped by id (a bounded in-memory window; outputs carry deterministic
  event ids, so a duplicate that slips through is dropped downstream);
- failures retried with backoff, then dead-lettered with the error and the original bytes.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import faust
import mode.loop
import orjson
import structlog
from faust.types import EventT, TableT
from mode import BaseSignalT

from pipeline import __version__
from pipeline.config import Settings
from pipeline.runtime import faust_patches
from pipeline.runtime.commits import commit_offsets
from pipeline.runtime.offsets import OffsetTracker, Partition
from pipeline.runtime.profile import profile_for
from pipeline.runtime.topics import dead_letter_topic
from schemas import DeadLetter, Producer, SourceRef

log = structlog.get_logger("hotline.runner")


@dataclass(frozen=True)
class Inbound:
    """One message as a stage sees it."""

    key: bytes | None
    value: bytes
    source: SourceRef
    headers: dict[str, bytes]


@dataclass(frozen=True)
class Outbound:
    topic: str
    key: bytes
    value: bytes
    headers: dict[str, bytes] = field(default_factory=dict)
    partition: int | None = None  # None: the default partitioner, by key
    # Bound to the stage's log line for this output.
    case_id: str | None = None
    event_id: str | None = None


class PermanentError(Exception):
    """Retrying cannot help (bad bytes, schema mismatch): dead-letter at once."""


Handler = Callable[[Inbound], Awaitable[list[Outbound]]]


@dataclass(frozen=True)
class StageSpec:
    name: str
    inputs: tuple[str, ...]
    # Declares the stage's tables on the app and returns its handler.
    build: Callable[[faust.App, Settings], Handler]
    # The id of an input for dropping redeliveries; None when it has none.
    identify: Callable[[Inbound], str | None]
    # What of the original bytes may be kept on a dead letter (personal data removed).
    redact: Callable[[bytes], bytes] = lambda raw: raw
    # False: batches in offset order (the stage keeps state); True: events at once, up to
    # `Settings.concurrency`, for a stage whose time goes to waiting on the network.
    concurrent: bool = False


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


def _headers(raw: Any) -> dict[str, bytes]:
    if not raw:
        return {}
    items: Iterable[tuple[str, bytes]] = raw.items() if isinstance(raw, dict) else raw
    return {k: v for k, v in items if v is not None}


def inbound_from_event(event: EventT) -> Inbound:
    message = event.message
    return Inbound(
        key=message.key,
        value=message.value or b"",  # a tombstone reads as empty, and is refused as such
        source=SourceRef(
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            timestamp_ms=int(message.timestamp * 1000),
        ),
        headers=_headers(message.headers),
    )


def dead_letter(spec: StageSpec, inbound: Inbound, error: BaseException, attempts: int) -> Outbound:
    record = DeadLetter(
        stage=spec.name,
        failed_at=datetime.now(UTC),
        error_type=type(error).__name__,
        error=str(error)[:2000],
        attempts=attempts,
        source=inbound.source,
        key_b64=base64.b64encode(inbound.key).decode() if inbound.key is not None else None,
        original_b64=base64.b64encode(spec.redact(inbound.value)).decode(),
    )
    return Outbound(
        topic=dead_letter_topic(spec.name),
        key=inbound.key or f"{inbound.source.partition}:{inbound.source.offset}".encode(),
        value=record.model_dump_json().encode(),
    )


class StageProcessor:
    """Runs the handler over a batch with redelivery dropping, retries and dead letters."""

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
                outputs = await self.handler(inbound)
                break
            except PermanentError as error:
                return [self._dead(inbound, error, attempts)]
            except Exception as error:  # a bug or a transient failure: bounded retries
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
        if input_id is not None:
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
        return dead_letter(self.spec, inbound, error, attempts)


def faust_app(app_id: str, settings: Settings, bootstrap: str, partitions: int) -> faust.App:
    """A Faust app with the project's settings and the broker profile."""
    faust_patches.apply()
    datadir = settings.data_dir / "faust"
    datadir.mkdir(parents=True, exist_ok=True)
    return faust.App(
        app_id,
        broker=[f"kafka://{server}" for server in bootstrap.split(",")],
        web_enabled=False,
        topic_partitions=partitions,
        consumer_auto_offset_reset="earliest",
        stream_buffer_maxsize=max(4 * settings.batch_size, 1000),
        broker_max_poll_records=max(settings.batch_size, 500),
        store="memory://",
        datadir=str(datadir),
        **profile_for(settings.broker).faust_settings(),
    )


def build_stage_app(
    spec: StageSpec, settings: Settings, bootstrap: str, partitions: int
) -> tuple[faust.App, StageProcessor]:
    app = faust_app(f"hotline-{spec.name}", settings, bootstrap, partitions)
    handler = spec.build(app, settings)
    processor = StageProcessor(spec, handler, settings)
    conveyor = Conveyor(app, processor, settings)
    # acks=False: Faust neither tracks nor commits these offsets; the conveyor does.
    source = app.topic(*spec.inputs, key_serializer="raw", value_serializer="raw", acks=False)

    async def run_stage(stream: faust.StreamT[bytes]) -> None:
        # take_events is on Faust's Stream, not on its StreamT protocol.
        batches = cast(faust.Stream[bytes], stream).take_events(
            settings.batch_size, within=settings.batch_within
        )
        try:
            async for events in batches:
                await conveyor.take(events)
        finally:
            await conveyor.settle()

    app.agent(source, name=f"hotline-{spec.name}")(run_stage)

    @app.on_partitions_revoked.connect  # type: ignore[arg-type]  # mode types receivers as a union mypy cannot match
    async def hand_over(sender: Any, *args: Any, signal: BaseSignalT[Any], **kwargs: Any) -> None:
        revoked: set[Any] = args[0] if args else kwargs.get("revoked", set())
        await conveyor.settle()
        conveyor.tracker.forget({Partition(tp.topic, tp.partition) for tp in revoked})

    @app.on_partitions_assigned.connect  # type: ignore[arg-type]
    def log_assignment(sender: Any, *args: Any, signal: BaseSignalT[Any], **kwargs: Any) -> None:
        assigned: set[Any] = args[0] if args else kwargs.get("assigned", set())
        mine = sorted(f"{tp.topic}:{tp.partition}" for tp in assigned if tp.topic in spec.inputs)
        log.info("partitions assigned", stage=spec.name, partitions=mine)

    @app.timer(interval=settings.commit_interval)
    async def commit_finished() -> None:
        await conveyor.commit()

    @app.timer(interval=10.0)
    async def report_counters() -> None:
        log.info("stage progress", stage=spec.name, **processor.counters.as_dict())

    return app, processor


def _position(event: EventT) -> tuple[Partition, int, int]:
    message = event.message
    return Partition(message.topic, message.partition), message.offset, message.generation_id or 0


class Conveyor:
    """Moves events through the processor and tracks which input offsets are finished."""

    def __init__(self, app: faust.App, processor: StageProcessor, settings: Settings) -> None:
        self.app = app
        self.processor = processor
        self.settings = settings
        self.tracker = OffsetTracker()
        self.concurrent = processor.spec.concurrent
        self._slots = asyncio.Semaphore(settings.concurrency)
        self._tasks: set[asyncio.Task[None]] = set()

    async def take(self, events: Sequence[EventT]) -> None:
        if self.concurrent:
            for event in events:
                await self._slots.acquire()
                position = _position(event)
                if not self.tracker.begin(*position):
                    self._slots.release()  # fetched before a rebalance: it will come again
                    continue
                task = asyncio.create_task(self._one(event, position))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            return
        current = []
        for event in events:
            position = _position(event)
            if self.tracker.begin(*position):
                current.append((event, position))
        try:
            await deliver(self.app, await handle_batch(self.processor, [e for e, _ in current]))
        except Exception as error:
            await self._fail(error)
            return
        for _, position in current:
            self.tracker.finish(*position)

    async def _one(self, event: EventT, position: tuple[Partition, int, int]) -> None:
        try:
            await deliver(self.app, await self.processor.process(inbound_from_event(event)))
            self.tracker.finish(*position)
        except Exception as error:
            await self._fail(error)
        finally:
            self._slots.release()

    async def _fail(self, error: Exception) -> None:
        """Outputs could not be delivered: the offset stays unfinished and the worker stops, so
        a restarted worker redoes the event rather than passing over it."""
        log.error("delivery failed, stopping", stage=self.processor.spec.name, error=repr(error))
        await self.app.crash(error)

    async def commit(self) -> None:
        points = self.tracker.committable()
        if points:
            generation = self.tracker.generation
            self.tracker.committed(await commit_offsets(self.app, points), generation)

    async def settle(self) -> None:
        """Let events in flight finish (bounded by the session timeout), then commit."""
        deadline = time.monotonic() + self.app.conf.broker_session_timeout / 2
        while self.tracker.in_flight() and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        await self.commit()


async def handle_batch(processor: StageProcessor, events: Sequence[EventT]) -> list[Outbound]:
    outputs: list[Outbound] = []
    for event in events:
        outputs.extend(await processor.process(inbound_from_event(event)))
    return outputs


def table_update(table: TableT[Any, Any], partition: int, key: str, value: Any) -> Outbound:
    """Change a table entry here and return its changelog record.

    The record goes out with the batch's outputs, so the change is on the broker before the
    input's offset is committed (Faust's own path buffers it and flushes it one by one).
    """
    table.data[key] = value
    return Outbound(
        table.changelog_topic.get_topic_name(),
        orjson.dumps(key),
        orjson.dumps(value),
        partition=partition,
    )


async def deliver(app: faust.App, outputs: Sequence[Outbound]) -> None:
    """Produce every output and wait until the broker has them all."""
    producer = app.producer
    pending = []
    for out in outputs:
        headers = list(out.headers.items()) or None
        pending.append(
            await producer.send(out.topic, out.key, out.value, out.partition, None, headers)
        )
    if pending:
        await asyncio.gather(*pending)


def run_worker(app: faust.App, loglevel: str) -> None:
    """Run a worker until SIGINT/SIGTERM; finished offsets are committed on the way out."""
    # uvloop roughly doubles what Faust's per-message machinery can move.
    mode.loop.use("uvloop")
    worker = faust.Worker(app, loglevel=loglevel, override_logging=False, quiet=True)
    started = time.monotonic()
    log.info("worker starting", app=app.conf.id)
    try:
        worker.execute_from_commandline()
    finally:
        log.info("worker stopped", app=app.conf.id, ran_s=round(time.monotonic() - started, 1))
