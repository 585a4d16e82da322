"""`hotline ledger rebuild`: the ledger made again from the topics alone.

Every partition of every ledger topic is read from its start to the end offset it had when the
rebuild began, in batches, each batch kept in one transaction. Entries are placed by their own
order key, so the order the partitions are read in does not matter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, TopicPartition

from pipeline.ledger.store import Ledger, LedgerMessage

Progress = Callable[[int, int], None]  # messages read, messages in all


@dataclass
class Rebuilt:
    messages: int = 0
    appended: int = 0
    duplicates: int = 0
    contacts: int = 0
    unreadable: list[str] = field(default_factory=list)  # "topic:partition:offset: why"


async def rebuild(
    ledger: Ledger,
    bootstrap: str,
    topics: list[str],
    *,
    batch: int = 2000,
    progress: Progress | None = None,
) -> Rebuilt:
    """Empty the ledger's rebuilt tables and record every message of `topics` again."""
    ledger.reset()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    done = Rebuilt()
    try:
        present = await consumer.topics()  # fetches metadata of every topic
        missing = [topic for topic in topics if topic not in present]
        if missing:
            raise KeyError(f"no topic {', '.join(missing)} on the broker: create the topics first")
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        starts = await consumer.beginning_offsets(partitions)
        ends = await consumer.end_offsets(partitions)
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
