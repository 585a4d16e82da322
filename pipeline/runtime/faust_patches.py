"""Two corrections to faust-streaming 0.15.3 + aiokafka 0.14, applied before any stage app starts.

Both lost reports without a trace; both were found by tests/agents/test_received_on_broker.py.

1. After a rebalance Faust asks aiokafka to seek every assigned partition to its committed
   offset. aiokafka seeks only where that offset is above 0: a partition with nothing committed
   yet keeps its old fetch position, while Faust has already dropped the messages it had fetched
   before the rebalance. Such partitions are seeked to their beginning, as "earliest" promises.

2. When table recovery ends, Faust resumes the stream partitions, seeks them to the committed
   offsets and only then calls `flow_control.resume()`, which always empties every stream buffer.
   Records fetched between the seek and that call (their fetch position is already past them)
   were thrown away and never fetched again. Buffers are now emptied only when flow control
   really goes from suspended to active, i.e. for records fetched before the rebalance's seek.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiokafka import TopicPartition
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
from mode.utils.queues import FlowControlEvent

_original_seek_to_committed = AIOKafkaConsumerThread.seek_to_committed


async def _seek_to_committed(self: AIOKafkaConsumerThread) -> Mapping[TopicPartition, int]:
    committed: Mapping[TopicPartition, int] = await _original_seek_to_committed(self)
    uncommitted = [tp for tp, offset in committed.items() if not offset]
    if uncommitted:
        consumer = self._ensure_consumer()
        await self.call_thread(consumer.seek_to_beginning, *uncommitted)
    return committed


def _resume(self: FlowControlEvent) -> None:
    was_suspended = self._suspend.is_set()
    self._suspend.clear()
    self._resume.set()
    if was_suspended:
        self.clear()


def apply() -> None:
    AIOKafkaConsumerThread.seek_to_committed = _seek_to_committed  # type: ignore[method-assign]
    FlowControlEvent.resume = _resume  # type: ignore[method-assign]
