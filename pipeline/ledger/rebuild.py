"""`hotline ledger rebuild`: the ledger made again from the topics alone.

Every partition of every ledger topic is read from its start to the end offset it had when the
rebuild began, in batches, each batch kept in one transaction. Entries are placed by their own
order key, so the order the partitions are read in does not matter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from aiokafka import TopicPartition

from pipeline.ledger.store import Ledger, LedgerMessage
from pipeline.runtime.kafka_io import assigned_consumer

Progress = Callable[[int, int], None]  # messages read, messages in all


@dataclass
class Rebuilt:
    messages: int = 0
    appended: int = 0
    duplicates: int = 0
    contacts: int = 0
    unreadable: list[str] = field(default_factory=list)  # "topic: why"


async def rebuild(
    ledger: Ledger,
    bootstrap: str,
    topics: list[str],
    *,
    batch: int = 2000,
    progress: Progress | None = None,
    until: Mapping[TopicPartition, int] | None = None,
) -> Rebuilt:
    """Empty the ledger's rebuilt tables and record every message of `topics` again, up to
    the end offsets they have now, or up to `until` (the offsets a ledger worker committed:
    the ledger as that worker made it)."""
    ledger.reset()
    try:
        consumer, partitions = await assigned_consumer(bootstrap, topics)
    except KeyError as error:
        raise KeyError(f"{error.args[0]}: create the topics first") from None
    done = Rebuilt()
    try:
        starts = await consumer.beginning_offsets(partitions)
        ends = dict(await consumer.end_offsets(partitions))
        if until is not None:
            ends = {tp: min(end, until.get(tp, end)) for tp, end in ends.items()}
        total = sum(ends[tp] - starts[tp] for tp in partitions)
        remaining = {tp for tp in partitions if ends[tp] > starts[tp]}
        while remaining:
            fetched = await consumer.getmany(*remaining, timeout_ms=500, max_records=batch)
            messages = []
            for tp, records in fetched.items():
                for record in records:
                    if record.offset >= ends[tp] or record.value is None:
                        continue
                    messages.append(LedgerMessage(tp.topic, record.value, record.key))
            for tp in list(remaining):
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
            kept = ledger.record(messages)
            done.messages += len(messages)
            done.appended += kept.appended
            done.duplicates += kept.duplicates
            done.contacts += kept.contacts
            done.unreadable += [f"{m.topic}: {why}" for m, why in kept.unreadable]
            if progress is not None:
                progress(done.messages, total)
    finally:
        await consumer.stop()
    return done
