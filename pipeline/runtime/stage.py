"""What a stage is to the runtime: messages in and out, the context it is built in, its spec.

A stage module declares a `StageSpec`; the runtime runs it on Faust (pipeline/runtime/worker.py)
or in-process for tests (pipeline/runtime/harness.py). The stage sees only what is here, so it
runs the same on both.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from pydantic_settings import BaseSettings

from pipeline.config import Settings
from pipeline.runtime.reasons import ReasonCode
from schemas import SourceRef


@dataclass(frozen=True)
class Inbound:
    """One message as a stage sees it."""

    key: bytes | None
    value: bytes
    source: SourceRef
    headers: dict[str, bytes]


@dataclass(frozen=True)
class Outbound:
    topic: str
    key: bytes
    value: bytes
    headers: dict[str, bytes] = field(default_factory=dict)
    partition: int | None = None  # None: the default partitioner, by key
    # Bound to the stage's log line for this output.
    case_id: str | None = None
    event_id: str | None = None


class SetupError(ValueError):
    """A stage cannot start: a data file or setting is wrong; the message says where."""


class PermanentError(Exception):
    """Retrying cannot help (bad bytes, schema mismatch, a bad value): dead-letter at once."""


Handler = Callable[[Inbound], Awaitable[list[Outbound]]]


class StageTable(Protocol):
    """A stage's keyed state, partitioned like its input (a Faust table on a broker)."""

    def get(self, key: str) -> Any: ...

    def update(self, partition: int, key: str, value: Any) -> Outbound:
        """Change the entry here and return its changelog record, to be delivered with the
        event's other outputs, so the change is on the broker before the input is committed."""
        ...


class SharedTable(Protocol):
    """Entries every worker of a stage sees, whichever partitions it holds (a compacted topic
    each worker reads whole): for answers worth sharing, such as lookup results. An entry is a
    JSON value; a worker that misses one only works more."""

    async def loaded(self) -> None:
        """Returns once the entries already on the broker have been read."""
        ...

    def get(self, key: str) -> Any: ...

    def put(self, key: str, value: Any) -> None:
        """Keep the entry here and publish it to the other workers in the background."""
        ...

    def remember(self, key: str, value: Any) -> None:
        """Keep the entry here only: it reaches the topic as one of the event's outputs."""
        ...

    def items(self) -> list[tuple[str, Any]]: ...


Tick = Callable[[], Awaitable[list["Outbound"]]]


_Options = TypeVar("_Options", bound=BaseSettings)


class StageContext:
    """What a stage is built with: settings, its own options, tables, a shutdown hook."""

    def __init__(self, settings: Settings, options: BaseSettings | None = None) -> None:
        self.settings = settings
        self._options = options
        self.closers: list[Callable[[], Awaitable[None]]] = []

    def options(self, model: type[_Options]) -> _Options:
        """The stage's own `HOTLINE_*` settings (declared in its module), read once."""
        if not isinstance(self._options, model):
            self._options = model()
        return self._options

    def table(self, name: str, partitions: int) -> StageTable:
        raise NotImplementedError  # each runtime keeps tables its own way

    def shared(self, topic: str) -> SharedTable:
        """A table on `topic` shared by all of the stage's workers (declare it in `outputs`)."""
        raise NotImplementedError

    def timer(self, interval: float, tick: Tick) -> None:
        """Run `tick` every `interval` seconds; its outputs are delivered like an event's."""
        raise NotImplementedError

    def owns(self, key: bytes) -> bool:
        """This worker holds the input partition that `key` leads to (work of scheduled
        entries is done once, by the owner)."""
        raise NotImplementedError

    def on_shutdown(self, close: Callable[[], Awaitable[None]]) -> None:
        """Run `close` when the worker stops (network clients, the browser)."""
        self.closers.append(close)


@dataclass(frozen=True)
class StageSpec:
    name: str
    inputs: tuple[str, ...]
    # Every topic the stage writes; the first is where its cases continue.
    outputs: tuple[str, ...]
    # Declares the stage's tables on the context and returns its handler.
    build: Callable[[StageContext], Handler]
    # The id of an input for dropping redeliveries; None when it has none.
    identify: Callable[[Inbound], str | None]
    # What of the original bytes may be kept on a dead letter (personal data removed).
    redact: Callable[[bytes], bytes] = lambda raw: raw
    # False: batches in offset order (the stage keeps state); True: events at once, up to
    # `Settings.concurrency`, for a stage whose time goes to waiting on the network.
    concurrent: bool = False
    # The reason codes the stage may end or hold a case with (for docs and checks).
    reasons: tuple[type[ReasonCode], ...] = ()
    # The stage's own settings, a pydantic-settings model with the HOTLINE_ prefix.
    options: type[BaseSettings] | None = None

    @property
    def forward(self) -> str:
        """Where the stage hands on the cases it lets through."""
        return self.outputs[0]
