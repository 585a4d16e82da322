"""A table every worker of a stage shares: a compacted topic that each worker reads whole.

Like a Faust GlobalTable, without its recovery quirks: at start a worker reads the topic from
the beginning to its end offsets, then keeps reading it, so an entry one worker puts reaches
the others within a fetch. Writes go out in the background and are not awaited with the
event's outputs: an entry lost in a crash costs one more lookup, never a wrong case.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import orjson
import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from pipeline.config import Settings
from pipeline.runtime.kafka_io import assigned_consumer
from pipeline.runtime.profile import profile_for

log = structlog.get_logger("hotline.shared")

_LOAD_TIMEOUT = 30.0  # seconds a worker waits for the table before working without it


class KafkaSharedTable:
    def __init__(self, topic: str, bootstrap: str, settings: Settings) -> None:
        self.topic = topic
        self._bootstrap = bootstrap
        self._settings = settings
        self._data: dict[str, Any] = {}
        self._loaded = asyncio.Event()
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self._reader: asyncio.Task[None] | None = None
        self._sends: set[asyncio.Future[Any]] = set()
        self._starting: asyncio.Task[None] | None = None

    async def _start(self) -> None:
        try:
            await self._connect()
        except Exception as error:  # the stage goes on without it: it only looks up more
            log.error("shared table not available", topic=self.topic, error=repr(error))
            self._loaded.set()

    async def _connect(self) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap,
            **profile_for(self._settings.broker).producer_settings(),
        )
        await self._producer.start()
        # Fetches wait to fill a little: a busy table is then read in a few large fetches, not
        # one per record (the broker's time, on a small machine).
        self._consumer, assigned = await assigned_consumer(
            self._bootstrap, self.topic, fetch_max_wait_ms=250, fetch_min_bytes=64 * 1024
        )
        self._reader = asyncio.create_task(self._read(assigned), name=f"shared:{self.topic}")

    async def _read(self, assigned: list[TopicPartition]) -> None:
        try:
            await self._follow(assigned)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the stage goes on without it: it only looks up more
            log.error("shared table stopped reading", topic=self.topic, error=repr(error))
            self._loaded.set()

    async def _follow(self, assigned: list[TopicPartition]) -> None:
        assert self._consumer is not None
        consumer = self._consumer
        ends = await consumer.end_offsets(assigned) if assigned else {}
        if not any(ends.values()):
            self._loaded.set()
        while True:
            batches = await consumer.getmany(timeout_ms=500, max_records=5000)
            for batch in batches.values():
                for record in batch:
                    if record.key is None:
                        continue
                    key = record.key.decode()
                    if record.value is None:
                        self._data.pop(key, None)
                    else:
                        self._data[key] = orjson.loads(record.value)
            if not self._loaded.is_set():
                positions = [await consumer.position(tp) for tp in assigned]
                if all(pos >= ends[tp] for pos, tp in zip(positions, assigned, strict=True)):
                    self._loaded.set()
                    log.info("shared table loaded", topic=self.topic, entries=len(self._data))

    async def loaded(self) -> None:
        """Starts reading on first use (the worker's loop is running by then)."""
        if self._loaded.is_set():
            return  # the common case: no waiting machinery per lookup
        if self._starting is None:
            self._starting = asyncio.create_task(self._start())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._starting), _LOAD_TIMEOUT)
            await asyncio.wait_for(self._loaded.wait(), _LOAD_TIMEOUT)

    def get(self, key: str) -> Any:
        return self._data.get(key)

    def put(self, key: str, value: Any) -> None:
        self._data[key] = value
        if self._producer is None:
            return
        send = asyncio.ensure_future(
            self._producer.send_and_wait(self.topic, orjson.dumps(value), key=key.encode())
        )
        self._sends.add(send)
        send.add_done_callback(self._sent)

    def remember(self, key: str, value: Any) -> None:
        self._data[key] = value

    def items(self) -> list[tuple[str, Any]]:
        return list(self._data.items())

    def _sent(self, send: asyncio.Future[Any]) -> None:
        self._sends.discard(send)
        if not send.cancelled() and send.exception() is not None:
            log.warning(
                "shared entry not published", topic=self.topic, error=repr(send.exception())
            )

    async def stop(self) -> None:
        if self._starting is not None and not self._starting.done():
            self._starting.cancel()
        if self._sends:
            await asyncio.gather(*self._sends, return_exceptions=True)
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        for client in (self._consumer, self._producer):
            if client is not None:
                await client.stop()


class MemorySharedTable:
    """The in-process stand-in (stage harness): a dictionary, loaded from the start."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}

    async def loaded(self) -> None:
        return None

    def get(self, key: str) -> Any:
        return self.data.get(key)

    def put(self, key: str, value: Any) -> None:
        self.data[key] = value

    def remember(self, key: str, value: Any) -> None:
        self.data[key] = value

    def items(self) -> list[tuple[str, Any]]:
        return list(self.data.items())
