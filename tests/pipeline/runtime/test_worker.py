"""The conveyor between Faust and the processor, without a broker: what is committed, and what
happens to work of a partition that a rebalance takes away."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from faust.types import EventT

from pipeline.config import Settings
from pipeline.runtime.offsets import Partition
from pipeline.runtime.runner import StageProcessor
from pipeline.runtime.stage import Inbound, Outbound, StageContext, StageSpec
from pipeline.runtime.worker import Conveyor

TOPIC = "hotline.in"


@dataclass
class Message:
    partition: int
    offset: int
    topic: str = TOPIC
    key: bytes = b"k"
    value: bytes = b""
    timestamp: float = 0.0
    generation_id: int = 1
    headers: list[Any] = field(default_factory=list)


@dataclass
class Event:
    message: Message


def events(*positions: tuple[int, int]) -> Sequence[EventT]:
    return cast(Sequence[EventT], [Event(Message(p, o, value=b"%d" % p)) for p, o in positions])


class Broker:
    """What the conveyor hands on: delivered outputs and committed offsets."""

    def __init__(self) -> None:
        self.delivered: list[Outbound] = []
        self.committed: dict[Partition, int] = {}
        self.crashed: list[BaseException] = []

    async def deliver(self, outputs: Sequence[Outbound]) -> None:
        self.delivered.extend(outputs)

    async def commit(self, points: dict[Partition, int]) -> dict[Partition, int]:
        self.committed.update(points)
        return points

    async def crash(self, error: BaseException) -> None:
        self.crashed.append(error)


def conveyor(seconds_by_partition: dict[int, float], broker: Broker) -> Conveyor:
    async def handler(inbound: Inbound) -> list[Outbound]:
        await asyncio.sleep(seconds_by_partition[inbound.source.partition])
        return [Outbound("hotline.out", b"k", inbound.value)]

    spec = StageSpec(
        name="probe",
        inputs=(TOPIC,),
        outputs=("hotline.out",),
        build=lambda context: handler,
        identify=lambda inbound: None,
        concurrent=True,
    )
    settings = Settings(handover_grace=0.2, concurrency=8)
    processor = StageProcessor(spec, spec.build(StageContext(settings)), settings)
    return Conveyor(processor, settings, broker.deliver, broker.commit, broker.crash)


def test_work_of_a_revoked_partition_is_handed_over_not_finished() -> None:
    broker = Broker()

    async def go() -> None:
        belt = conveyor({0: 0.0, 1: 30.0}, broker)  # partition 1: a fetch with long retries
        await belt.take(events((0, 5), (0, 6), (1, 9)))
        await asyncio.sleep(0.05)
        started = asyncio.get_running_loop().time()
        await belt.hand_over({Partition(TOPIC, 1)})
        assert asyncio.get_running_loop().time() - started < 2  # the grace, not 30 s
        await belt.settle()

    asyncio.run(go())
    # Partition 0 finished and is committed; partition 1's event produced nothing and its
    # offset was never committed past it: its new owner redoes it.
    assert [o.value for o in broker.delivered] == [b"0", b"0"]
    assert broker.committed == {Partition(TOPIC, 0): 7}
    assert broker.crashed == []


def test_work_finishing_within_the_grace_is_committed_before_the_hand_over() -> None:
    broker = Broker()

    async def go() -> None:
        belt = conveyor({1: 0.05}, broker)
        await belt.take(events((1, 3)))
        await belt.hand_over({Partition(TOPIC, 1)})

    asyncio.run(go())
    assert [o.value for o in broker.delivered] == [b"1"]
    assert broker.committed == {Partition(TOPIC, 1): 4}
