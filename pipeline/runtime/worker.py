"""A stage on Faust: one function turns a `StageSpec` into a Faust app and worker.

- its own app id and consumer group `hotline-<stage>`, starting from the earliest offset;
- events run in batches (a stage with state, in order) or up to `concurrency` at a time (a
  stage waiting on the network); an event's outputs are *delivered* before its offset counts
  as finished, and offsets are committed only below the oldest unfinished event
  (pipeline/runtime/offsets.py), so the output always exists before the input is committed;
- on a rebalance, work of a partition taken away is given `handover_grace` seconds to finish,
  what finished is committed, and the rest is cancelled: the partition's new owner redoes it
  from the committed offset (same event ids, so nothing is counted twice downstream).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, cast

import faust
import mode.loop
import orjson
import structlog
from faust.types import EventT, TableT
from mode import BaseSignalT

from pipeline.config import Settings
from pipeline.runtime import faust_patches
from pipeline.runtime.commits import commit_offsets
from pipeline.runtime.ids import partition_for_key
from pipeline.runtime.offsets import OffsetTracker, Partition
from pipeline.runtime.profile import profile_for
from pipeline.runtime.runner import StageProcessor
from pipeline.runtime.shared import KafkaSharedTable
from pipeline.runtime.stage import Inbound, Outbound, StageContext, StageSpec, Tick
from schemas import SourceRef

log = structlog.get_logger("hotline.worker")

Deliver = Callable[[Sequence[Outbound]], Awaitable[None]]
Commit = Callable[[dict[Partition, int]], Awaitable[dict[Partition, int]]]
Crash = Callable[[BaseException], Awaitable[None]]


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


class FaustTable:
    """A stage table on a Faust table: its changelog is the table's state on the broker."""

    def __init__(self, table: TableT[Any, Any]) -> None:
        self._table = table

    def get(self, key: str) -> Any:
        # Straight from the data, as `update` writes it: the table's own `get` adds a sensor
        # call and a KeyError per missing key (2 % of the received worker's profile).
        return self._table.data.get(key)

    def update(self, partition: int, key: str, value: Any) -> Outbound:
        # The record goes out with the event's outputs (Faust's own path buffers it and
        # flushes it one by one, after the input may have been committed).
        self._table.data[key] = value
        return Outbound(
            self._table.changelog_topic.get_topic_name(),
            orjson.dumps(key),
            orjson.dumps(value),
            partition=partition,
        )


class FaustContext(StageContext):
    def __init__(
        self, app: faust.App, settings: Settings, bootstrap: str, spec: StageSpec, partitions: int
    ) -> None:
        super().__init__(settings)
        self.app = app
        self.bootstrap = bootstrap
        self.inputs = set(spec.inputs)
        self.partitions = partitions

    def table(self, name: str, partitions: int) -> FaustTable:
        return FaustTable(self.app.Table(name, default=None, partitions=partitions))

    def shared(self, topic: str) -> KafkaSharedTable:
        table = KafkaSharedTable(topic, self.bootstrap, self.settings)
        self.on_shutdown(table.stop)
        return table

    def timer(self, interval: float, tick: Tick) -> None:
        async def run() -> None:
            await deliver(self.app, await tick())

        self.app.timer(interval=interval)(run)

    def owns(self, key: bytes) -> bool:
        assignment = self.app.consumer.assignment() if self.app.consumer else set()
        mine = {tp.partition for tp in assignment if tp.topic in self.inputs}
        return bool(mine) and partition_for_key(key, self.partitions) in mine


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
    context = FaustContext(app, settings, bootstrap, spec, partitions)
    processor = StageProcessor(spec, spec.build(context), settings)

    async def commit(points: dict[Partition, int]) -> dict[Partition, int]:
        return await commit_offsets(app, points)

    async def crash(error: BaseException) -> None:
        await app.crash(error)

    conveyor = Conveyor(processor, settings, lambda outputs: deliver(app, outputs), commit, crash)
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
        await conveyor.hand_over({Partition(tp.topic, tp.partition) for tp in revoked})

    @app.on_partitions_assigned.connect  # type: ignore[arg-type]
    def log_assignment(sender: Any, *args: Any, signal: BaseSignalT[Any], **kwargs: Any) -> None:
        assigned: set[Any] = args[0] if args else kwargs.get("assigned", set())
        mine = sorted(f"{tp.topic}:{tp.partition}" for tp in assigned if tp.topic in spec.inputs)
        log.info("partitions assigned", stage=spec.name, partitions=mine)

    @app.on_before_shutdown.connect  # type: ignore[arg-type]
    async def close_clients(sender: object, **kwargs: object) -> None:
        for close in context.closers:
            await close()

    @app.timer(interval=settings.commit_interval)
    async def commit_finished() -> None:
        await conveyor.commit()

    @app.timer(interval=10.0)
    async def report_counters() -> None:
        log.info("stage progress", stage=spec.name, **processor.counters.as_dict())

    return app, processor


Position = tuple[Partition, int, int]


def _position(event: EventT) -> Position:
    message = event.message
    return Partition(message.topic, message.partition), message.offset, message.generation_id or 0


class Conveyor:
    """Moves events through the processor and tracks which input offsets are finished."""

    def __init__(
        self,
        processor: StageProcessor,
        settings: Settings,
        deliver: Deliver,
        commit: Commit,
        crash: Crash,
    ) -> None:
        self.processor = processor
        self.settings = settings
        self._deliver = deliver
        self._commit = commit
        self._crash = crash
        self.tracker = OffsetTracker()
        self.concurrent = processor.spec.concurrent
        self._slots = asyncio.Semaphore(settings.concurrency)
        self._tasks: dict[asyncio.Task[None], Partition] = {}

    async def take(self, events: Sequence[EventT]) -> None:
        if self.concurrent:
            for event in events:
                await self._slots.acquire()
                position = _position(event)
                if not self.tracker.begin(*position):
                    self._slots.release()  # fetched before a rebalance: it will come again
                    continue
                task = asyncio.create_task(self._one(event, position))
                self._tasks[task] = position[0]
                task.add_done_callback(self._done)
            return
        current = []
        for event in events:
            position = _position(event)
            if self.tracker.begin(*position):
                current.append((event, position))
        outputs: list[Outbound] = []
        for event, _ in current:
            outputs.extend(await self.processor.process(inbound_from_event(event)))
        try:
            await self._deliver(outputs)
        except Exception as error:
            await self._fail(error)
            return
        for _, position in current:
            self.tracker.finish(*position)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.pop(task, None)
        self._slots.release()

    async def _one(self, event: EventT, position: Position) -> None:
        try:
            await self._deliver(await self.processor.process(inbound_from_event(event)))
            self.tracker.finish(*position)
        except asyncio.CancelledError:
            raise  # handed over: the partition's new owner redoes it
        except Exception as error:
            await self._fail(error)

    async def _fail(self, error: Exception) -> None:
        """Outputs could not be delivered: the offset stays unfinished and the worker stops, so
        a restarted worker redoes the event rather than passing over it."""
        log.error("delivery failed, stopping", stage=self.processor.spec.name, error=repr(error))
        await self._crash(error)

    async def commit(self) -> None:
        points = self.tracker.committable()
        if points:
            generation = self.tracker.generation
            self.tracker.committed(await self._commit(points), generation)

    async def settle(self, partitions: set[Partition] | None = None) -> None:
        """Let events in flight (of `partitions`, or all) finish within the grace, then commit."""
        deadline = time.monotonic() + self.settings.handover_grace
        while self._busy(partitions) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        await self.commit()

    async def hand_over(self, revoked: set[Partition]) -> None:
        """Partitions taken away: commit what finished, cancel what did not."""
        await self.settle(revoked)
        late = self._running(revoked)
        for task in late:
            task.cancel()
        if late:
            await asyncio.gather(*late, return_exceptions=True)
            log.info(
                "unfinished work handed over",
                stage=self.processor.spec.name,
                events=len(late),
                partitions=sorted(f"{p.topic}:{p.partition}" for p in revoked),
            )
        self.tracker.forget(revoked)

    def _busy(self, partitions: set[Partition] | None) -> bool:
        # A batch runs in the agent itself: it is waited for, never cancelled.
        return bool(self._running(partitions)) if self.concurrent else self.tracker.in_flight() > 0

    def _running(self, partitions: set[Partition] | None) -> list[asyncio.Task[None]]:
        return [t for t, p in self._tasks.items() if partitions is None or p in partitions]


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
    # Its start-up spinner writes a raw "show cursor" escape even into a log file.
    worker.spinner = None
    started = time.monotonic()
    log.info("worker starting", app=app.conf.id)
    try:
        worker.execute_from_commandline()
    finally:
        log.info("worker stopped", app=app.conf.id, ran_s=round(time.monotonic() - started, 1))
