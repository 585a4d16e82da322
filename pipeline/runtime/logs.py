"""structlog logs for every process; stdlib loggers (Faust, aiokafka) render the same way.

Human-readable on a terminal (structlog's console renderer), JSON lines otherwise or with
`HOTLINE_LOG_FORMAT=json`. The Kafka client's messages are tamed: what it says while a
topic or group is still being set up (leaders being elected, a coordinator not yet known) is
normal at start and goes to debug, and anything it repeats (a broker away: thousands of lines
a second) is let through once every few seconds with a count of what was held back.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from typing import Literal

import structlog

LogFormat = Literal["auto", "json", "console"]

_SHARED: list[structlog.types.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.processors.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]
# Loggers of the Kafka client and the stream library, whose messages are rate-limited.
CLIENT_LOGGERS = ("aiokafka", "kafka", "faust", "mode")
# What the client says while topics get leaders and groups get coordinators: normal at start.
_SETTING_UP = re.compile(
    r"NotLeaderForPartition|LeaderNotAvailable|GroupCoordinatorNotAvailable|NotCoordinator"
    r"|CoordinatorLoadInProgress|not found in cluster metadata|UnknownTopicOrPartition"
    r"|is not available during auto-create|Heartbeat failed for group .* rebalanc"
    r"|Topic .* is not available"
)


class ClientNoise(logging.Filter):
    """Start-up chatter to debug; a repeated message once per `interval` seconds."""

    def __init__(self, interval: float = 5.0) -> None:
        super().__init__()
        self.interval = interval
        self._last: dict[tuple[str, object], float] = {}
        self._held: dict[tuple[str, object], int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith(CLIENT_LOGGERS):
            return True
        if _SETTING_UP.search(record.getMessage()):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger().isEnabledFor(logging.DEBUG)
        key = (record.name, record.msg)
        now = time.monotonic()
        if now - self._last.get(key, -self.interval) < self.interval:
            self._held[key] = self._held.get(key, 0) + 1
            return False
        self._last[key] = now
        held = self._held.pop(key, 0)
        if held:
            record.msg = f"{record.msg} [{held} more like this in the last {self.interval:.0f}s]"
        return True


def _renderer(log_format: LogFormat) -> structlog.types.Processor:
    console = log_format == "console" or (log_format == "auto" and sys.stderr.isatty())
    if console:
        return structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    return structlog.processors.JSONRenderer()


def configure_logging(level: str = "info", log_format: LogFormat = "auto") -> None:
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    renderer = _renderer(log_format)
    structlog.configure(
        processors=[*_SHARED, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*_SHARED, structlog.stdlib.add_logger_name],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    handler.addFilter(ClientNoise())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    # Faust and aiokafka are chatty at info; their warnings still show.
    root.setLevel(max(numeric, logging.WARNING))
