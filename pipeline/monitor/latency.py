"""A stage's latencies: a bounded random sample for its percentiles, and histogram buckets
counting every one for Prometheus. Pure."""

from __future__ import annotations

import bisect
import random

from schemas.monitor import LatencyHistogram

# Seconds: from a fast stage's milliseconds to a review or a slow fetch's hours.
LATENCY_BOUNDS_S: tuple[float, ...] = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
    600.0, 1800.0, 3600.0, 21600.0, 86400.0,
)  # fmt: skip


class Latencies:
    """Every latency counted in its bucket; `capacity` of them kept at random (Vitter's
    algorithm R), so the percentiles stand for all of them in bounded memory."""

    def __init__(
        self,
        capacity: int,
        bounds: tuple[float, ...] = LATENCY_BOUNDS_S,
        draw: random.Random | None = None,
    ) -> None:
        self.capacity = capacity
        self.bounds = bounds
        self.buckets = [0] * len(bounds)  # not cumulative; values above the last: count only
        self.count = 0
        self.sum_s = 0.0
        self.kept: list[float] = []
        self._draw = draw or random.Random(0)

    def add(self, seconds: float) -> None:
        seconds = max(seconds, 0.0)  # clocks of two hosts: a cause a hair after its effect
        self.count += 1
        self.sum_s += seconds
        index = bisect.bisect_left(self.bounds, seconds)
        if index < len(self.bounds):
            self.buckets[index] += 1
        if len(self.kept) < self.capacity:
            self.kept.append(seconds)
        else:
            slot = self._draw.randrange(self.count)
            if slot < self.capacity:
                self.kept[slot] = seconds

    def percentile(self, share: float) -> float | None:
        if not self.kept:
            return None
        ordered = sorted(self.kept)
        return ordered[min(int(share * len(ordered)), len(ordered) - 1)]

    def histogram(self) -> LatencyHistogram:
        cumulative, running = [], 0
        for count in self.buckets:
            running += count
            cumulative.append(running)
        return LatencyHistogram(
            bounds_s=list(self.bounds), cumulative=cumulative, count=self.count, sum_s=self.sum_s
        )
