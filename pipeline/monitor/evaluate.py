"""A partition's status over the last rounds, in the style of Burrow's evaluation: pure.

Each round gives a partition's offsets and its group's member count (`PartitionSample`); a
status is read from the last `window` of them:

- REWIND: the committed offset went back (a replay, or a reset) somewhere in the window;
- STOP: lag, the committed offset did not move over the window, and the group has no members;
- STALL: the same, but with members: they hold the partition and do not get on with it;
- WARN: the offsets moved, but the lag grew at every step: the group falls behind;
- OK: otherwise.

With fewer samples than the window the samples there are are judged; one sample alone says
STOP (lag and nobody there) or OK.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise

from schemas.monitor import STATUS_ORDER, GroupStatus

# Lag growing once is noise (a burst arrived between two rounds); WARN needs it to grow at
# least this many steps in a row, as well as at every step of the window.
_WARN_MIN_STEPS = 2


@dataclass(frozen=True)
class PartitionSample:
    at: float  # seconds (UNIX time) of the round
    earliest: int  # the oldest offset still on the partition
    latest: int  # the end offset: the next to be written
    committed: int | None  # the group's; None: never committed
    members: int  # the group's members in that round

    @property
    def position(self) -> int:
        """Where the group reads next: a group that never committed starts at the earliest
        offset (the stages' reset policy), and one behind retention skips to it."""
        return self.earliest if self.committed is None else max(self.committed, self.earliest)

    @property
    def lag(self) -> int:
        return max(self.latest - self.position, 0)


def rewound(before: PartitionSample, after: PartitionSample) -> bool:
    """The committed offset went back, or was deleted (the group starts over from the
    earliest offset): either way the group reads again what it had read."""
    if before.committed is None:
        return False
    return after.committed is None or after.committed < before.committed


def partition_status(samples: Iterable[PartitionSample], window: int) -> GroupStatus:
    """The status of a partition from its samples, oldest first (the last `window` count)."""
    recent = list(samples)[-window:]
    if not recent:
        return "OK"
    if any(rewound(a, b) for a, b in pairwise(recent)):
        return "REWIND"
    last = recent[-1]
    if last.lag == 0:
        return "OK"
    moved = len({s.committed for s in recent}) > 1
    if not moved:
        if last.members == 0:
            return "STOP"
        # One sample cannot tell a stalled member from one that just took the partition.
        return "STALL" if len(recent) > 1 else "OK"
    steps = list(pairwise(recent))
    if len(steps) >= _WARN_MIN_STEPS and all(b.lag > a.lag for a, b in steps):
        return "WARN"
    return "OK"


def worst(statuses: Iterable[GroupStatus]) -> GroupStatus:
    """The group's status: the worst of its partitions' (STATUS_ORDER, best first)."""
    return max(statuses, key=STATUS_ORDER.index, default="OK")


def consumed(samples: Iterable[PartitionSample], window: int) -> int:
    """Messages the group got through over the window (nothing for a rewind's step back)."""
    recent = list(samples)[-window:]
    return sum(max(b.position - a.position, 0) for a, b in pairwise(recent))


def rate_per_s(series: Iterable[Iterable[PartitionSample]], window: int) -> float:
    """Messages consumed per second over the window, summed over the group's partitions."""
    total, span = 0, 0.0
    for samples in series:
        recent = list(samples)[-window:]
        if len(recent) < 2:
            continue
        total += consumed(recent, window)
        span = max(span, recent[-1].at - recent[0].at)
    return total / span if span > 0 else 0.0
