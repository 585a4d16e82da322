"""Committing a stage's own input offsets through the consumer of its Faust app.

Faust runs the aiokafka consumer in a thread of its own, so the commit is handed to that thread.
Only partitions still assigned are committed; a failed commit (a rebalance under way, the broker
away) is logged and tried again by the next round, never fatal: at worst events are redone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, cast

import faust
import structlog
from aiokafka import TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.structs import OffsetAndMetadata
from faust.exceptions import NotReady

from pipeline.runtime.offsets import Partition

log = structlog.get_logger("hotline.commits")


async def commit_offsets(
    app: faust.App, points: Mapping[Partition, int], timeout: float = 10.0
) -> dict[Partition, int]:
    """Commit `points` for the partitions still assigned; returns what was committed."""
    thread = cast(Any, app.consumer)._thread

    async def in_consumer_thread() -> dict[Partition, int]:
        consumer = thread._ensure_consumer()
        assigned = consumer.assignment()
        mine = {p: o for p, o in points.items() if TopicPartition(*p) in assigned}
        if mine:
            await consumer.commit(
                {TopicPartition(*p): OffsetAndMetadata(o, "") for p, o in mine.items()}
            )
        return mine

    try:
        done: dict[Partition, int] = await asyncio.wait_for(
            thread.call_thread(in_consumer_thread), timeout
        )
    except (KafkaError, NotReady, TimeoutError) as error:  # NotReady: starting or stopping
        log.warning("offsets not committed", error=repr(error)[:300], partitions=len(points))
        return {}
    return done
