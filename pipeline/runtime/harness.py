"""A stage in-process, no broker: feed its handler input messages, get its outputs.

In the spirit of Faust's `AgentTestWrapper` and bytewax's testing source and sink. The stage is
built exactly as a worker builds it and every input goes through the same `StageProcessor`
(redelivery dropping, retries, dead letters); tables are dictionaries that tests can fill and
read. Outputs to one of the stage's own inputs (received's rekeyed reports) are fed back, on
the partition the key leads to, as the broker would.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic_settings import BaseSettings

from pipeline.config import Settings
from pipeline.runtime.ids import partition_for_key
from pipeline.runtime.runner import StageProcessor
from pipeline.runtime.shared import MemorySharedTable
from pipeline.runtime.stage import Inbound, Outbound, StageContext, StageSpec, Tick
from schemas import SourceRef

DEFAULT_PARTITIONS = 4


class MemoryTable:
    def __init__(self, changelog: str) -> None:
        self.changelog = changelog
        self.data: dict[str, Any] = {}

    def get(self, key: str) -> Any:
        return self.data.get(key)

    def update(self, partition: int, key: str, value: Any) -> Outbound:
        self.data[key] = value
        return Outbound(self.changelog, key.encode(), repr(value).encode(), partition=partition)


class MemoryContext(StageContext):
    def __init__(self, spec: StageSpec, settings: Settings, options: BaseSettings | None) -> None:
        super().__init__(settings, options)
        self.spec = spec
        self.tables: dict[str, MemoryTable] = {}
        self.shared_tables: dict[str, MemorySharedTable] = {}
        self.timers: list[Tick] = []

    def table(self, name: str, partitions: int) -> MemoryTable:
        # The changelog topic is named as Faust names it, so tests can tell its records apart.
        changelog = f"hotline-{self.spec.name}-{name}-changelog"
        return self.tables.setdefault(name, MemoryTable(changelog))

    def shared(self, topic: str) -> MemorySharedTable:
        return self.shared_tables.setdefault(topic, MemorySharedTable())

    def timer(self, interval: float, tick: Tick) -> None:
        self.timers.append(tick)  # run by `StageHarness.tick()`, when a test says

    def owns(self, key: bytes) -> bool:
        return True  # the harness is every partition's worker


@dataclass
class StageHarness:
    """`async with StageHarness(SPEC, settings) as stage: outputs = await stage.feed(...)`."""

    spec: StageSpec
    settings: Settings = field(default_factory=Settings)
    options: BaseSettings | None = None
    partitions: int = DEFAULT_PARTITIONS
    outputs: list[Outbound] = field(default_factory=list)
    _offsets: defaultdict[tuple[str, int], int] = field(default_factory=lambda: defaultdict(int))

    async def __aenter__(self) -> StageHarness:
        self.context = MemoryContext(self.spec, self.settings, self.options)
        self.processor = StageProcessor(self.spec, self.spec.build(self.context), self.settings)
        return self

    async def __aexit__(self, *exc: object) -> None:
        for close in self.context.closers:
            await close()

    def table(self, name: str) -> dict[str, Any]:
        return self.context.tables[name].data

    def message(
        self,
        value: bytes,
        *,
        key: bytes | None = None,
        topic: str | None = None,
        partition: int | None = None,
        headers: dict[str, bytes] | None = None,
        timestamp_ms: int = 1_795_000_000_000,
    ) -> Inbound:
        """An input as the broker would deliver it, at the next offset of its partition."""
        topic = topic or self.spec.inputs[0]
        if partition is None:
            partition = partition_for_key(key, self.partitions) if key is not None else 0
        offset = self._offsets[(topic, partition)]
        self._offsets[(topic, partition)] += 1
        source = SourceRef(
            topic=topic, partition=partition, offset=offset, timestamp_ms=timestamp_ms
        )
        return Inbound(key=key, value=value, source=source, headers=headers or {})

    async def feed(self, *messages: Inbound | bytes) -> list[Outbound]:
        """Process each input (bytes: a message on the first input topic) and whatever the
        stage sends back to its own inputs; returns every output, in order."""
        pending = [m if isinstance(m, Inbound) else self.message(m) for m in messages]
        produced: list[Outbound] = []
        while pending:
            inbound = pending.pop(0)
            outputs = await self.processor.process(inbound)
            produced.extend(outputs)
            pending.extend(self._fed_back(outputs, inbound.source.timestamp_ms))
        self.outputs.extend(produced)
        return produced

    def _fed_back(self, outputs: Iterable[Outbound], timestamp_ms: int) -> list[Inbound]:
        return [
            self.message(
                out.value,
                key=out.key,
                topic=out.topic,
                partition=out.partition,
                headers=out.headers,
                timestamp_ms=timestamp_ms,
            )
            for out in outputs
            if out.topic in self.spec.inputs
        ]

    async def tick(self) -> list[Outbound]:
        """Run the stage's timers once, as a worker's clock would: their outputs."""
        produced = []
        for tick in self.context.timers:
            produced.extend(await tick())
        self.outputs.extend(produced)
        return produced

    def on(self, topic: str) -> list[Outbound]:
        """Every output so far to `topic`."""
        return [out for out in self.outputs if out.topic == topic]


def run_through(
    spec: StageSpec,
    inputs: Iterable[Inbound | bytes],
    settings: Settings | None = None,
    options: BaseSettings | None = None,
) -> list[Outbound]:
    """A fresh stage fed `inputs` once, built and closed as a worker would: its outputs."""

    async def go() -> list[Outbound]:
        async with StageHarness(spec, settings or Settings(), options) as stage:
            return await stage.feed(*inputs)

    return asyncio.run(go())
