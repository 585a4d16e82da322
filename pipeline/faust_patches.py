"""One correction to faust-streaming 0.15.3 + aiokafka 0.14, applied before any stage app starts.

After a rebalance Faust asks aiokafka to seek every assigned partition to its committed offset.
aiokafka seeks only where that offset is above 0: a partition with nothing committed yet keeps
its old fetch position, while Faust has already dropped the messages it had fetched before the
rebalance. Those messages are then never processed, and a later commit can pass over them
(found by tests/agents/test_received_on_broker.py: two workers after a crash). Seeking such
partitions to their beginning makes them read again from the start, as "earliest" promises.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiokafka import TopicPartition
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

_original = AIOKafkaConsumerThread.seek_to_committed


async def _seek_to_committed(self: AIOKafkaConsumerThread) -> Mapping[TopicPartition, int]:
    committed: Mapping[TopicPartition, int] = await _original(self)
    uncommitted = [tp for tp, offset in committed.items() if not offset]
    if uncommitted:
        consumer = self._ensure_consumer()
        await self.call_thread(consumer.seek_to_beginning, *uncommitted)
    return committed


def apply() -> None:
    AIOKafkaConsumerThread.seek_to_committed = _seek_to_committed  # type: ignore[method-assign]
