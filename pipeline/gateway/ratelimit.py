"""Token buckets: how often one API key or one client address may post.

A bucket holds up to `per_minute` tokens and refills at `per_minute` a minute, so a sender may
burst up to the rate and then goes at the rate. Buckets live in the gateway's memory: each
gateway process limits on its own, which is enough to keep one sender from flooding intake.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable


class TokenBuckets:
    """One bucket per sender; the least recently seen are forgotten past `max_senders`."""

    def __init__(
        self,
        per_minute: int,
        *,
        max_senders: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.capacity = float(per_minute)
        self.refill_per_s = per_minute / 60.0
        self.max_senders = max_senders
        self._clock = clock
        # sender -> (tokens, when they were counted); a forgotten sender starts full, which
        # only ever lets through what a new sender could send anyway.
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()  # sync routes run in a thread pool

    def take(self, sender: str) -> float | None:
        """Take one token: None when allowed, else the seconds until the next token."""
        with self._lock:
            now = self._clock()
            tokens, then = self._buckets.pop(sender, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - then) * self.refill_per_s)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            self._buckets[sender] = (tokens, now)
            while len(self._buckets) > self.max_senders:
                self._buckets.popitem(last=False)
            return None if allowed else (1.0 - tokens) / self.refill_per_s


def retry_after(seconds: float) -> str:
    """The Retry-After header's value: whole seconds, never 0 while refused."""
    return str(max(1, math.ceil(seconds)))
