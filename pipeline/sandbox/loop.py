"""An asyncio event loop running in a background thread, driven from synchronous code.

The sandbox's HTTP servers live on it so pytest fixtures and CLI commands can start, query and
stop them without being async themselves.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

_CALL_TIMEOUT = 10.0


class LoopThread:
    def __init__(self, name: str) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run `coro` on the loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(_CALL_TIMEOUT)

    def call(self, fn: Callable[[], T]) -> T:
        """Run `fn` on the loop thread (so it never races the servers' own updates)."""

        async def call() -> T:
            return fn()

        return self.run(call())

    def stop(self) -> None:
        """Cancel what is still running on the loop, stop it, join the thread, close the loop."""
        if self._thread.is_alive():
            self.run(self._cancel_tasks())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
        self._loop.close()

    @staticmethod
    async def _cancel_tasks() -> None:
        tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
