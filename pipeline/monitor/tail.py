"""Following the stages' output topics from where they are when the monitor starts, into a
`StageTally`: one group-less consumer, reading in the background between rounds."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping

import structlog
from aiokafka import AIOKafkaConsumer

from pipeline.monitor.tally import StageTally, read_event
from pipeline.runtime.kafka_io import assigned_consumer

log = structlog.get_logger("monitor")


class OutputTail:
    def __init__(
        self, bootstrap: str, topics: Mapping[str, tuple[str, str | None]], tally: StageTally
    ) -> None:
        """`topics`: each topic's record kind and the stage that writes it (for records that
        do not name their stage)."""
        self.bootstrap = bootstrap
        self.topics = dict(topics)
        self.tally = tally
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if not self.topics:
            return
        try:
            consumer, assigned = await assigned_consumer(self.bootstrap, list(self.topics))
        except KeyError as missing:  # a topic not created yet: count what there is
            log.warning("monitor cannot follow outputs", missing=str(missing))
            return
        # From now on: counts are "since the monitor started", not the topics' whole history.
        await consumer.seek_to_end(*assigned)
        for tp in assigned:
            await consumer.position(tp)  # fix the start here, not at the first fetch
        self._consumer = consumer
        self._task = asyncio.create_task(self._follow(consumer))

    async def _follow(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            try:
                batches = await consumer.getmany(timeout_ms=1000, max_records=5000)
            except Exception as error:  # the broker away: the counts wait, the rounds go on
                log.warning("monitor output tail failed", error=str(error))
                await asyncio.sleep(1.0)
                continue
            for tp, records in batches.items():
                kind, writer = self.topics[tp.topic]
                for record in records:
                    event = read_event(record.value, kind, writer)
                    if event is not None:
                        self.tally.add(event)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            await self._consumer.stop()
