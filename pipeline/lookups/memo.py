"""Lookups made once: a result is kept in a table the stage's workers share, with its time, and
concurrent asks for the same key wait on the one lookup in flight.

So a thousand reports on one host cost one lookup, and every answer says how old it is. A
success is reused for `ttl` seconds, a failure for `failure_ttl` (or as long as a rate-limited
server asked), so a broken server is asked again by policy, not by every case.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from pipeline.runtime.stage import SharedTable
from schemas.jurisdiction import Lookup, LookupKind


@dataclass(frozen=True)
class Answer:
    """What one lookup found (`data`), or why it found nothing (`error`)."""

    data: dict[str, Any] | None
    source: str
    attempts: int = 1
    error: str | None = None
    retry_after: float | None = None  # seconds a rate-limited server asked us to wait


@dataclass(frozen=True)
class Remembered:
    data: dict[str, Any] | None
    lookup: Lookup


Loader = Callable[[], Awaitable[Answer]]


class _Abandoned(Exception):
    """The lookup in flight was given up by the case that started it."""


class LookupMemo:
    def __init__(self, table: SharedTable, ttl: float, failure_ttl: float) -> None:
        self._table = table
        self._ttl = ttl
        self._failure_ttl = failure_ttl
        self._in_flight: dict[str, asyncio.Future[dict[str, Any]]] = {}
        # The record made of each entry, to hand out again with its age (no validation anew).
        self._records: dict[str, tuple[dict[str, Any], Lookup]] = {}

    async def get(self, kind: LookupKind, key: str, load: Loader) -> Remembered:
        entry_key = f"{kind}:{key}"
        await self._table.loaded()
        entry = self._fresh(self._table.get(entry_key))
        if entry is not None:
            return self._again(kind, key, entry_key, entry)
        pending = self._in_flight.get(entry_key)
        if pending is not None:
            try:
                return _remembered(kind, key, await asyncio.shield(pending), cached=True)
            except _Abandoned:  # the case that asked was cancelled (handed over): ask anew
                return await self.get(kind, key, load)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._in_flight[entry_key] = future
        try:
            answer = await load()
            entry = {
                "at": time.time(),
                "source": answer.source,
                "attempts": answer.attempts,
                "error": answer.error,
                "data": answer.data,
                "keep": self._keep(answer),
            }
            self._table.put(entry_key, entry)
            future.set_result(entry)
        except asyncio.CancelledError:
            # Only the asking case is cancelled: the others waiting must not be.
            future.set_exception(_Abandoned())
            future.exception()  # retrieved: waiters get it, nobody else must
            raise
        except BaseException as error:
            future.set_exception(error)
            future.exception()
            raise
        finally:
            del self._in_flight[entry_key]
        return _remembered(kind, key, entry, cached=False)

    def _again(
        self, kind: LookupKind, key: str, entry_key: str, entry: dict[str, Any]
    ) -> Remembered:
        known = self._records.get(entry_key)
        if known is None or known[0] is not entry:
            remembered = _remembered(kind, key, entry, cached=True)
            if len(self._records) > 100_000:
                self._records.clear()
            self._records[entry_key] = (entry, remembered.lookup)
            return remembered
        age = round(max(time.time() - entry["at"], 0.0), 1)
        return Remembered(entry["data"], known[1].model_copy(update={"age_s": age}))

    def fresh(self, kind: LookupKind, key: str) -> bool:
        """An answer for `key` is at hand (lookups that all are can skip running at once)."""
        return self._fresh(self._table.get(f"{kind}:{key}")) is not None

    def _keep(self, answer: Answer) -> float:
        if answer.error is None:
            return self._ttl
        return max(self._failure_ttl, answer.retry_after or 0.0)

    @staticmethod
    def _fresh(entry: Any) -> dict[str, Any] | None:
        if not isinstance(entry, dict):
            return None
        try:
            expired = entry["at"] + entry["keep"] < time.time()
        except (KeyError, TypeError):
            return None  # an entry of another version of this code: look it up again
        return None if expired else entry


def _remembered(kind: LookupKind, key: str, entry: dict[str, Any], cached: bool) -> Remembered:
    age = max(time.time() - entry["at"], 0.0) if cached else 0.0
    lookup = Lookup(
        kind=kind,
        key=key,
        source=entry["source"],
        looked_up_at=datetime.fromtimestamp(entry["at"], UTC),
        age_s=round(age, 1),
        cached=cached,
        attempts=entry["attempts"],
        error=entry["error"],
    )
    return Remembered(entry["data"], lookup)


async def retrying(load: Loader, attempts: int, backoff: float) -> Answer:
    """`load` again while it fails, up to `attempts` tries with doubling waits; a server that
    said it is rate-limiting us is not asked again now."""
    tries = 0
    while True:
        tries += 1
        answer = await load()
        if answer.error is None or answer.retry_after is not None or tries >= attempts:
            return replace(answer, attempts=tries)
        await asyncio.sleep(backoff * 2 ** (tries - 1))
