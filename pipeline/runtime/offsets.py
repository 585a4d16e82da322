"""Which input offsets a stage worker may commit: only below its oldest unfinished event.

Faust's own acknowledgement path is not used for stage inputs. It acks events it skips during a
rebalance and stalls a partition's commits for good when an offset is never acked (seen in
tests/agents/test_received_on_broker.py), and a stage with concurrent I/O needs exactly this
rule anyway. A partition is fetched in offset order, so within one consumer generation every
offset below the oldest unfinished event was either finished or does not exist (compaction,
transaction markers): the commit point is that oldest unfinished offset, or one past the
newest finished offset when nothing is in flight. Partitions are committed only after at least
one of their events finished in the current generation; a new generation (rebalance, after
which Faust seeks back to the committed offsets) forgets everything of the previous one.
"""

from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple


class Partition(NamedTuple):
    topic: str
    partition: int


class OffsetTracker:
    def __init__(self) -> None:
        self.generation = -1
        self._in_flight: defaultdict[Partition, set[int]] = defaultdict(set)
        self._finished_next: dict[Partition, int] = {}
        self._committed: dict[Partition, int] = {}

    def _enter(self, generation: int) -> bool:
        """Move to a newer generation; False for an event of an older one."""
        if generation > self.generation:
            self.generation = generation
            self._in_flight.clear()
            self._finished_next.clear()
            self._committed.clear()
        return generation == self.generation

    def begin(self, partition: Partition, offset: int, generation: int) -> bool:
        """Track an event about to be processed; False when it is stale and must be left alone."""
        if not self._enter(generation):
            return False
        self._in_flight[partition].add(offset)
        return True

    def finish(self, partition: Partition, offset: int, generation: int) -> None:
        """The event's outputs are on the broker; events of an older generation are ignored."""
        unfinished = self._in_flight.get(partition)
        if generation != self.generation or unfinished is None or offset not in unfinished:
            return  # stale, or its partition was taken away meanwhile
        unfinished.remove(offset)
        if offset + 1 > self._finished_next.get(partition, -1):
            self._finished_next[partition] = offset + 1

    def in_flight(self) -> int:
        return sum(len(offsets) for offsets in self._in_flight.values())

    def committable(self) -> dict[Partition, int]:
        """Offsets to commit now: advanced since the last commit, never past unfinished work."""
        points = {}
        for partition, finished_next in self._finished_next.items():
            unfinished = self._in_flight.get(partition)
            point = min(unfinished) if unfinished else finished_next
            if point > self._committed.get(partition, -1):
                points[partition] = point
        return points

    def committed(self, points: dict[Partition, int], generation: int) -> None:
        """Record a successful commit made in `generation`."""
        if generation == self.generation:
            for partition, point in points.items():
                if point > self._committed.get(partition, -1):
                    self._committed[partition] = point

    def forget(self, partitions: set[Partition]) -> None:
        """Partitions taken away: whatever still finishes for them is not ours to commit."""
        for partition in partitions:
            self._in_flight.pop(partition, None)
            self._finished_next.pop(partition, None)
            self._committed.pop(partition, None)
