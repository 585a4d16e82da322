"""`hotline dlq list|replay STAGE`: the messages a stage could not process, and sending them
back to the topic they were read from once what failed is fixed.

A dead letter (schemas/records.py `DeadLetter`, on `hotline.dlq.<stage>`) is named by where it
lies on its topic, `partition:offset`. Replaying re-publishes its original bytes, with its key,
to the partition of the source topic it was read from, and marks the copy with a header
`hotline-dlq-replay: <dlq topic>:<partition>:<offset>`. The marks are the memory of what was
replayed: before sending, the source partition is read from the letter's time on and a letter
whose mark is there is refused as already replayed. No store of our own is needed, and the
marks go wherever the topic's retention takes the letters' originals.

Refused as well: a letter whose original was cut at the dead-letter cap (sending its start
would be a different message), one naming a topic its stage does not read (it could only be
forged), and a second letter of a message already sent back (a stage replay can dead-letter
one message twice). Replaying what was already processed is harmless anyway: the stages drop
inputs they have seen by id, and delivery sends a notice at most once per idempotency key.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError
from rich.table import Table

from pipeline.cli.offsets import offsets_at_time, partition_counts
from pipeline.config import Settings
from pipeline.runtime.ids import partition_for_key
from pipeline.runtime.kafka_io import kafka_producer, read_topic
from pipeline.runtime.topics import dead_letter_topic
from schemas import DeadLetter

REPLAY_HEADER = "hotline-dlq-replay"
# How far before a letter's time its replay is looked for: the letter's time is the worker's
# clock, a replay's timestamp the operator's; their clocks may disagree by this much.
CLOCK_SKEW = timedelta(minutes=5)
_ERROR_WIDTH = 70


# ---------------------------------------------------------------- the letters (pure)


@dataclass(frozen=True)
class StoredLetter:
    """A dead letter and where it lies on its topic."""

    topic: str
    partition: int
    offset: int
    letter: DeadLetter

    @property
    def letter_id(self) -> str:
        return f"{self.partition}:{self.offset}"

    @property
    def mark(self) -> str:
        """The header value its replay carries."""
        return f"{self.topic}:{self.partition}:{self.offset}"

    @property
    def source_ref(self) -> str:
        source = self.letter.source
        return f"{source.topic}:{source.partition}:{source.offset}"

    def key(self) -> bytes | None:
        return base64.b64decode(self.letter.key_b64) if self.letter.key_b64 is not None else None

    def original(self) -> bytes:
        return base64.b64decode(self.letter.original_b64)

    def target_partition(self, partitions: int) -> int:
        """Where its original was read. A letter not made from a read message (delivery's
        held notices, offset -1) goes where its key leads, as the notice would have."""
        key = self.key()
        if self.letter.source.offset < 0 and key is not None:
            return partition_for_key(key, partitions)
        return self.letter.source.partition


def shorten(text: str, width: int = _ERROR_WIDTH) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


class LetterRow(BaseModel):
    """One dead letter as `dlq list` shows it (and `--json` prints it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    failed_at: AwareDatetime
    error_type: str
    error: str
    attempts: int
    source_topic: str
    source_partition: int
    source_offset: int
    original_size: int
    truncated: bool


def letter_row(stored: StoredLetter) -> LetterRow:
    letter = stored.letter
    return LetterRow(
        id=stored.letter_id,
        failed_at=letter.failed_at,
        error_type=letter.error_type,
        error=letter.error,
        attempts=letter.attempts,
        source_topic=letter.source.topic,
        source_partition=letter.source.partition,
        source_offset=letter.source.offset,
        original_size=letter.original_size,
        truncated=letter.original_truncated,
    )


def newest(letters: Iterable[StoredLetter], limit: int) -> list[StoredLetter]:
    """The `limit` newest letters, oldest first."""
    ordered = sorted(letters, key=lambda s: (s.letter.failed_at, s.partition, s.offset))
    return ordered[-limit:] if limit > 0 else []


def choose(letters: list[StoredLetter], ids: str) -> list[StoredLetter]:
    """The letters named by `ids` ("3,7" or "0:3,2:7"), in the order given, each once. A bare
    offset names a letter only when no other partition has a letter at that offset."""
    by_id = {s.letter_id: s for s in letters}
    chosen: dict[str, StoredLetter] = {}
    for raw in (part.strip() for part in ids.split(",")):
        if not raw:
            continue
        if ":" in raw:
            found = by_id.get(raw)
            if found is None:
                raise ValueError(f"no dead letter {raw} (ids are partition:offset, see dlq list)")
        else:
            if not raw.isdigit():
                raise ValueError(f"--ids {raw!r}: give offsets or partition:offset, e.g. 0:3,2:7")
            at = [s for s in letters if s.offset == int(raw)]
            if not at:
                raise ValueError(f"no dead letter at offset {raw}")
            if len(at) > 1:
                named = ", ".join(s.letter_id for s in at)
                raise ValueError(f"offset {raw} is ambiguous ({named}): give partition:offset")
            found = at[0]
        chosen.setdefault(found.letter_id, found)
    if not chosen:
        raise ValueError("--ids names no dead letter")
    return list(chosen.values())


Action = Literal["send", "truncated", "replayed", "duplicate", "foreign"]


@dataclass(frozen=True)
class ReplayDecision:
    stored: StoredLetter
    action: Action
    detail: str
    sent_to: str | None = None  # topic:partition:offset of the copy, once sent

    @property
    def sends(self) -> bool:
        return self.action == "send"


def decide(
    letters: list[StoredLetter], replays_seen: dict[str, str], inputs: Iterable[str]
) -> list[ReplayDecision]:
    """What to do with each letter, given the marks already on the source topics (mark →
    where its copy lies) and the topics the stage reads."""
    readable = set(inputs)
    sent_sources: dict[str, str] = {}  # source message → the letter that sends it (back)
    for stored in letters:
        if stored.mark in replays_seen:
            sent_sources.setdefault(stored.source_ref, stored.letter_id)
    decisions = []
    for stored in letters:
        letter = stored.letter
        if stored.mark in replays_seen:
            where = replays_seen[stored.mark]
            decisions.append(ReplayDecision(stored, "replayed", f"already replayed: {where}"))
        elif letter.source.topic not in readable:
            decisions.append(
                ReplayDecision(
                    stored, "foreign", f"names {letter.source.topic}, which the stage does not read"
                )
            )
        elif letter.original_truncated:
            decisions.append(
                ReplayDecision(
                    stored,
                    "truncated",
                    f"only {len(stored.original())} of its {letter.original_size} bytes were "
                    "kept: it cannot be sent whole",
                )
            )
        elif sent_sources.get(stored.source_ref, stored.letter_id) != stored.letter_id:
            first = sent_sources[stored.source_ref]
            decisions.append(
                ReplayDecision(stored, "duplicate", f"the same message as letter {first}")
            )
        else:
            sent_sources.setdefault(stored.source_ref, stored.letter_id)
            decisions.append(ReplayDecision(stored, "send", f"to {letter.source.topic}"))
    return decisions


# ---------------------------------------------------------------- the broker


@dataclass
class Letters:
    topic: str
    letters: list[StoredLetter] = field(default_factory=list)
    unreadable: int = 0  # records on the topic that are not dead letters


async def read_letters(bootstrap: str, stage: str) -> Letters:
    topic = dead_letter_topic(stage)
    found = Letters(topic)
    for record in await read_topic(bootstrap, topic):
        try:
            letter = DeadLetter.model_validate_json(record.value or b"")
        except ValidationError:
            found.unreadable += 1
            continue
        found.letters.append(StoredLetter(topic, record.partition, record.offset, letter))
    return found


async def replays_on_source(
    settings: Settings, bootstrap: str, letters: list[StoredLetter]
) -> dict[str, str]:
    """The replay marks found on the letters' source partitions since the letters' time:
    mark → `topic:partition:offset` of the copy that carries it."""
    counts = await partition_counts(bootstrap, {s.letter.source.topic for s in letters})
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        # Per source partition, from the earliest point any of its letters could be replayed.
        since_ms: dict[TopicPartition, int] = {}
        after_offset: dict[TopicPartition, int] = {}
        for stored in letters:
            topic = stored.letter.source.topic
            if topic not in counts:
                continue
            tp = TopicPartition(topic, stored.target_partition(counts[topic]))
            at_ms = int((stored.letter.failed_at - CLOCK_SKEW).timestamp() * 1000)
            since_ms[tp] = min(since_ms.get(tp, at_ms), at_ms)
            floor = max(stored.letter.source.offset + 1, 0)  # a copy comes after its original
            after_offset[tp] = min(after_offset.get(tp, floor), floor)
        if not since_ms:
            return {}
        by_time = await offsets_at_time(settings, bootstrap, since_ms)
        partitions = list(since_ms)
        ends = await consumer.end_offsets(partitions)
        starts = {tp: max(after_offset[tp], by_time.get(tp, ends[tp])) for tp in partitions}
        return await _marks(consumer, starts, ends)
    finally:
        await consumer.stop()


async def _marks(
    consumer: AIOKafkaConsumer,
    starts: dict[TopicPartition, int],
    ends: dict[TopicPartition, int],
    timeout: float = 120.0,
) -> dict[str, str]:
    wanted = [tp for tp in starts if starts[tp] < ends[tp]]
    if not wanted:
        return {}
    consumer.assign(wanted)
    for tp in wanted:
        consumer.seek(tp, starts[tp])
    marks: dict[str, str] = {}
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        positions = {tp: await consumer.position(tp) for tp in wanted}
        if all(positions[tp] >= ends[tp] for tp in wanted):
            return marks
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"reading the source topics for replays took over {timeout:.0f}s")
        batches = await consumer.getmany(timeout_ms=500, max_records=5000)
        for tp, records in batches.items():
            for record in records:
                if record.offset >= ends[tp]:
                    continue
                for name, value in record.headers or ():
                    if name == REPLAY_HEADER and value:
                        where = f"{tp.topic}:{tp.partition}:{record.offset}"
                        marks.setdefault(value.decode("utf-8", "replace"), where)


async def send_back(
    settings: Settings, bootstrap: str, decisions: list[ReplayDecision]
) -> list[ReplayDecision]:
    """Re-publish every letter decided `send`; the decisions, each sent one saying where."""
    chosen = [d for d in decisions if d.sends]
    if not chosen:
        return decisions
    counts = await partition_counts(bootstrap, {d.stored.letter.source.topic for d in chosen})
    missing = {d.stored.letter.source.topic for d in chosen} - set(counts)
    if missing:
        raise KeyError(f"no topic {', '.join(sorted(missing))} on the broker")
    done: dict[str, str] = {}
    async with kafka_producer(settings, bootstrap) as producer:
        for decision in chosen:
            stored = decision.stored
            topic = stored.letter.source.topic
            sent = await producer.send_and_wait(
                topic,
                stored.original(),
                key=stored.key(),
                partition=stored.target_partition(counts[topic]),
                headers=[(REPLAY_HEADER, stored.mark.encode())],
            )
            done[stored.letter_id] = f"{topic}:{sent.partition}:{sent.offset}"
    return [
        ReplayDecision(d.stored, d.action, d.detail, done.get(d.stored.letter_id))
        for d in decisions
    ]


# ---------------------------------------------------------------- tables


def letters_table(topic: str, letters: list[StoredLetter], total: int) -> Table:
    shown = f", the newest {len(letters)}" if len(letters) < total else ""
    table = Table(title=f"{topic}: {total} dead letters{shown}")
    for column in ("id", "failed at (UTC)", "error", "", "tries", "source", "size", "cut"):
        table.add_column(column, overflow="fold")
    for stored in letters:
        letter = stored.letter
        table.add_row(
            stored.letter_id,
            letter.failed_at.strftime("%Y-%m-%d %H:%M:%S"),
            letter.error_type,
            shorten(letter.error),
            str(letter.attempts),
            stored.source_ref,
            str(letter.original_size),
            "cut" if letter.original_truncated else "",
        )
    return table


def decisions_table(topic: str, decisions: list[ReplayDecision], executed: bool) -> Table:
    sending = sum(d.sends for d in decisions)
    verb = "re-published" if executed else "would be re-published"
    table = Table(title=f"{topic}: {sending} of {len(decisions)} {verb}")
    for column in ("id", "source", "size", "", "why"):
        table.add_column(column, overflow="fold")
    for decision in decisions:
        stored = decision.stored
        if executed:
            said = "re-published" if decision.sent_to else "skipped"
        else:
            said = "to send" if decision.sends else "skip"
        why = decision.detail if decision.sent_to is None else f"as {decision.sent_to}"
        table.add_row(
            stored.letter_id, stored.source_ref, str(stored.letter.original_size), said, why
        )
    return table
