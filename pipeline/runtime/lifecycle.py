"""`with` support for anything that starts and stops: the brokers, the sandbox, the stack."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any, Self, TypeVar

_T = TypeVar("_T")


class StartStop:
    def start(self) -> Any:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def stopped_on_failure(self, starting: Callable[[], _T]) -> _T:
        """Run `starting`; if it fails half-way, stop whatever it had started, then re-raise.
        `stop` must therefore cope with a partial start."""
        try:
            return starting()
        except BaseException:
            self.stop()
            raise

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
