"""`hotline replay STAGE`: move a stage's consumer group on its input topics, as
`kafka-consumer-groups --reset-offsets` does, so its workers read those messages again.

Replaying is safe by design: a stage's output ids are derived from its input ids, so what it
makes again is the very same events, which every consumer drops by id, and a notice is
delivered at most once per idempotency key whatever is replayed. What a replay costs is time:
the preview says how many messages each partition will read again.

As with kafka-consumer-groups, nothing changes without `--execute`, and a group with live
members is refused: a running worker would commit its own positions over the new ones at its
next round (and Kafka refuses a commit from outside a live group anyway).

The pure part (targets, clamping, preview rows, the search by time) is at the top; what talks
to the broker is below it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from aiokafka.structs import OffsetAndMetadata
from pydantic import AwareDatetime, BaseModel, ConfigDict, model_validator
from rich.table import Table

from pipeline.config import Settings

# ---------------------------------------------------------------- what a replay asks for


class ReplayMode(StrEnum):
    earliest = "earliest"  # the beginning of every partition
    by_time = "datetime"  # the first message at or after a time
    shift = "shift"  # the group's own position moved by N messages


class ReplayTarget(BaseModel):
    """Where to move the group: exactly one of the three ways."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: ReplayMode
    at: AwareDatetime | None = None
    shift: int | None = None

    @model_validator(mode="after")
    def _one_way(self) -> ReplayTarget:
        if (self.mode == ReplayMode.by_time) != (self.at is not None):
            raise ValueError("a time goes with --to-datetime, and only with it")
        if (self.mode == ReplayMode.shift) != (self.shift is not None):
            raise ValueError("a count goes with --shift-by, and only with it")
        return self

    def describe(self) -> str:
        if self.mode == ReplayMode.earliest:
            return "to the earliest offsets"
        if self.mode == ReplayMode.by_time:
            assert self.at is not None
            return f"to the first messages at or after {self.at.isoformat()}"
        return f"shifted by {self.shift:+d}"


def parse_time(text: str) -> datetime:
    """An ISO 8601 date or time; one without a zone is the operator's local time."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"--to-datetime {text!r}: use an ISO date or time, e.g. 2026-11-03T14:00:00+05:00"
        ) from None
    return when if when.tzinfo is not None else when.astimezone()


def target_from_options(
    to_datetime: str | None, to_earliest: bool, shift_by: int | None
) -> ReplayTarget:
    """The one target the command line asked for; ValueError saying what is wrong."""
    given = [to_datetime is not None, to_earliest, shift_by is not None]
    if sum(given) != 1:
        raise ValueError("give exactly one of --to-datetime TIME, --to-earliest, --shift-by N")
    if to_datetime is not None:
        return ReplayTarget(mode=ReplayMode.by_time, at=parse_time(to_datetime))
    if to_earliest:
        return ReplayTarget(mode=ReplayMode.earliest)
    return ReplayTarget(mode=ReplayMode.shift, shift=shift_by)


# ---------------------------------------------------------------- the new offsets (pure)


@dataclass(frozen=True)
class PartitionState:
    """One input partition as the group sees it now."""

    topic: str
    partition: int
    beginning: int  # the oldest offset still on the broker
    end: int  # one past the newest
    committed: int | None  # None: the group never committed here

    @property
    def position(self) -> int:
        """Where the group's next worker would start: a group with no committed offset, or
        one the retention has overtaken, starts at the beginning (`auto_offset_reset`
        earliest, as every stage worker runs)."""
        if self.committed is None:
            return self.beginning
        return clamp(self.committed, self.beginning, self.end)


def clamp(offset: int, beginning: int, end: int) -> int:
    return max(beginning, min(offset, end))


def new_offset(target: ReplayTarget, state: PartitionState, found_by_time: int | None) -> int:
    """The offset the group is to resume from on this partition. `found_by_time` is the first
    offset whose timestamp is at or after the target's time (None: no such message: the
    partition is read from its end)."""
    if target.mode == ReplayMode.earliest:
        return state.beginning
    if target.mode == ReplayMode.by_time:
        found = state.end if found_by_time is None else found_by_time
        return clamp(found, state.beginning, state.end)
    assert target.shift is not None
    return clamp(state.position + target.shift, state.beginning, state.end)


class ReplayRow(BaseModel):
    """One line of the preview (and of `--json`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    topic: str
    partition: int
    committed: int | None
    new_offset: int
    end: int
    re_read: int  # messages already read that the group will read again
    skipped: int  # messages not yet read that the group will now never read

    @property
    def to_read(self) -> int:
        return self.end - self.new_offset


def preview_row(state: PartitionState, offset: int) -> ReplayRow:
    return ReplayRow(
        topic=state.topic,
        partition=state.partition,
        committed=state.committed,
        new_offset=offset,
        end=state.end,
        re_read=max(state.position - offset, 0),
        skipped=max(offset - state.position, 0),
    )


def preview_rows(
    target: ReplayTarget, states: Iterable[PartitionState], found_by_time: dict[TopicPartition, int]
) -> list[ReplayRow]:
    rows = []
    for state in sorted(states, key=lambda s: (s.topic, s.partition)):
        found = found_by_time.get(TopicPartition(state.topic, state.partition))
        rows.append(preview_row(state, new_offset(target, state, found)))
    return rows


# The first record at or after an offset: (its offset, its timestamp in ms), None past the last.
Probe = Callable[[int], Awaitable[tuple[int, int] | None]]


async def first_offset_at_or_after(at_ms: int, beginning: int, end: int, probe: Probe) -> int:
    """Binary search for the first offset whose record's timestamp is at or after `at_ms`
    (`end` when none is), for a broker that cannot answer ListOffsets by timestamp (Tansu).
    Timestamps are taken to grow with offsets, as one producer clock makes them. A probe may
    land on a gap (compaction, transaction markers): it answers the next record there is.

    Invariant: every record before `low` is older than `at_ms`; the first record at or after
    `high` is not (or `high` is the end)."""
    low, high = beginning, end
    while low < high:
        middle = (low + high) // 2
        found = await probe(middle)
        if found is None or found[0] >= high or found[1] >= at_ms:
            high = middle
        else:
            low = found[0] + 1
    return low


# ---------------------------------------------------------------- the broker


class ReplayError(Exception):
    """A replay that cannot be done as asked: the message says why and what to do."""


@dataclass(frozen=True)
class ReplayPlan:
    stage: str
    group: str
    target: ReplayTarget
    rows: list[ReplayRow]
    live_members: list[str]  # "client id @ host" of each member now in the group


def group_of(stage: str) -> str:
    return f"hotline-{stage}"


async def live_members(bootstrap: str, group: str) -> list[str]:
    """The members the group has now ("client id @ host"); empty when no worker runs."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30_000)
    await admin.start()
    try:
        [response] = await admin.describe_consumer_groups([group])
        described = response.to_object()["groups"]
    finally:
        await admin.close()
    return [
        f"{member['client_id']} @ {member['client_host']}"
        for group_entry in described
        for member in group_entry["members"]
    ]


def _group_consumer(bootstrap: str, group: str) -> AIOKafkaConsumer:
    # Never subscribed, so it never joins the group: it only reads and commits its offsets,
    # which the broker allows for a group with no live member (on Tansu too, FACTS.md).
    return AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)


async def partition_counts(bootstrap: str, topics: Iterable[str]) -> dict[str, int]:
    """How many partitions each topic has on the broker; a topic it lacks is left out."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30_000)
    await admin.start()
    try:
        described = await admin.describe_topics(sorted(set(topics)))
    finally:
        await admin.close()
    return {
        t["topic"]: len(t["partitions"])
        for t in described
        if t.get("error_code", 0) == 0 and t["partitions"]
    }


async def input_partitions(bootstrap: str, topics: Iterable[str]) -> list[TopicPartition]:
    wanted = list(topics)
    counts = await partition_counts(bootstrap, wanted)
    missing = [topic for topic in wanted if topic not in counts]
    if missing:
        raise ReplayError(
            f"no topic {', '.join(missing)} on the broker: run `hotline topics create`"
        )
    return [TopicPartition(topic, n) for topic in wanted for n in range(counts[topic])]


async def group_states(
    consumer: AIOKafkaConsumer, partitions: list[TopicPartition]
) -> list[PartitionState]:
    beginnings = await consumer.beginning_offsets(partitions)
    ends = await consumer.end_offsets(partitions)
    states = []
    for tp in partitions:
        committed = await consumer.committed(tp)
        states.append(PartitionState(tp.topic, tp.partition, beginnings[tp], ends[tp], committed))
    return states


async def offsets_at_time(
    settings: Settings, bootstrap: str, at_ms: dict[TopicPartition, int]
) -> dict[TopicPartition, int]:
    """For each partition, the first offset whose timestamp is at or after its time; a
    partition with no such message is left out. Apache Kafka answers this from its time index
    (`offsets_for_times`); Tansu answers it wrongly (FACTS.md), so there it is searched."""
    if not at_ms:
        return {}
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=100
    )
    await consumer.start()
    try:
        if settings.broker != "tansu":
            answers = await consumer.offsets_for_times(at_ms)
            return {tp: found.offset for tp, found in answers.items() if found is not None}
        beginnings = await consumer.beginning_offsets(list(at_ms))
        ends = await consumer.end_offsets(list(at_ms))
        found_offsets = {}
        for tp, wanted in at_ms.items():
            consumer.assign([tp])  # one partition at a time: each fetch is for the probe
            offset = await first_offset_at_or_after(
                wanted, beginnings[tp], ends[tp], _probe(consumer, tp)
            )
            if offset < ends[tp]:
                found_offsets[tp] = offset
        return found_offsets
    finally:
        await consumer.stop()


def _probe(consumer: AIOKafkaConsumer, tp: TopicPartition, timeout: float = 3.0) -> Probe:
    async def probe(offset: int) -> tuple[int, int] | None:
        consumer.seek(tp, offset)
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            records = (await consumer.getmany(tp, timeout_ms=200, max_records=1)).get(tp)
            if records:
                return records[0].offset, records[0].timestamp
        return None  # nothing from here to the end but gaps

    return probe


async def plan_replay(
    settings: Settings, bootstrap: str, stage: str, inputs: Iterable[str], target: ReplayTarget
) -> ReplayPlan:
    """What the replay would do, partition by partition; changes nothing."""
    group = group_of(stage)
    partitions = await input_partitions(bootstrap, inputs)
    consumer = _group_consumer(bootstrap, group)
    await consumer.start()
    try:
        states = await group_states(consumer, partitions)
    finally:
        await consumer.stop()
    found: dict[TopicPartition, int] = {}
    if target.mode == ReplayMode.by_time:
        assert target.at is not None
        at_ms = int(target.at.timestamp() * 1000)
        found = await offsets_at_time(settings, bootstrap, dict.fromkeys(partitions, at_ms))
    rows = preview_rows(target, states, found)
    return ReplayPlan(stage, group, target, rows, await live_members(bootstrap, group))


def refusal(plan: ReplayPlan) -> str:
    members = plan.live_members
    return (
        f"group {plan.group} has {len(members)} live member(s) ({', '.join(members)}): "
        f"stop every {plan.stage} worker first (Ctrl-C the `hotline stage run {plan.stage}` "
        "processes, or stop `hotline up`), then run this again; a running worker would "
        "commit over the new offsets"
    )


async def execute_replay(bootstrap: str, plan: ReplayPlan) -> None:
    """Commit the plan's offsets for the group; refused while the group has live members."""
    members = await live_members(bootstrap, plan.group)  # again: one may have started since
    if members:
        raise ReplayError(refusal(replace(plan, live_members=members)))
    offsets = {
        TopicPartition(row.topic, row.partition): OffsetAndMetadata(row.new_offset, "")
        for row in plan.rows
    }
    consumer = _group_consumer(bootstrap, plan.group)
    await consumer.start()
    try:
        consumer.assign(list(offsets))
        await consumer.commit(offsets)
    except KafkaError as error:  # a worker joined between the check and the commit
        raise ReplayError(
            f"the broker refused the new offsets of {plan.group} ({error!r}): "
            f"is a {plan.stage} worker running? Stop it and run this again"
        ) from None
    finally:
        await consumer.stop()


# ---------------------------------------------------------------- the preview


def messages(count: int) -> str:
    return f"{count} message" + ("" if count == 1 else "s")


def _offset(value: int | None) -> str:
    return "-" if value is None else str(value)


def replay_table(plan: ReplayPlan) -> Table:
    re_read = sum(row.re_read for row in plan.rows)
    skipped = sum(row.skipped for row in plan.rows)
    table = Table(
        title=f"replay {plan.stage} (group {plan.group}) {plan.target.describe()}",
        caption=f"{messages(re_read)} to read again, {skipped} skipped",
    )
    for column in ("topic", "partition", "committed", "new offset", "end", "re-read", "skipped"):
        table.add_column(column, justify="left" if column == "topic" else "right")
    for row in plan.rows:
        table.add_row(
            row.topic,
            str(row.partition),
            _offset(row.committed),
            str(row.new_offset),
            str(row.end),
            str(row.re_read),
            str(row.skipped),
        )
    return table
