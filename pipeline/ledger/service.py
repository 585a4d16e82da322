"""The ledger worker: every message of the ledger's topics kept in the case ledger.

Its own consumer group (`hotline-ledger`), outside the case path, run by the same runtime as
the stages: it reads every topic `topics.yaml` marks with `ledger:` and writes nothing to
Kafka but dead letters. An entry is committed to the database before its offset, and the
ledger drops an event it already holds by its id, so a redelivery or a replay is kept once.
"""

from __future__ import annotations

from pipeline.config import get_settings
from pipeline.ledger.store import Ledger, LedgerMessage, ledger_topics
from pipeline.runtime.stage import (
    Handler,
    Inbound,
    Outbound,
    PermanentError,
    StageContext,
    StageSpec,
)

SERVICE = "ledger"


def build(context: StageContext) -> Handler:
    ledger = Ledger.from_settings(context.settings)

    async def close() -> None:
        ledger.close()

    context.on_shutdown(close)

    async def handle(inbound: Inbound) -> list[Outbound]:
        message = LedgerMessage(inbound.source.topic, inbound.value, inbound.key)
        # A local database write of a few milliseconds at most: done in the loop, in order.
        kept = ledger.record([message])
        if kept.unreadable:
            raise PermanentError(kept.unreadable[0][1])
        return []

    return handle


SPEC = StageSpec(
    name=SERVICE,
    inputs=tuple(ledger_topics(get_settings())),
    outputs=(),
    build=build,
    identify=lambda _inbound: None,  # the ledger itself drops what it holds, for good
)
