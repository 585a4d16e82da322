"""`hotline replay STAGE` without a broker: the new offsets of each way of replaying, clamping,
the preview's counts, the search by time Tansu needs, and the command line's mistakes."""

from __future__ import annotations

import asyncio
from bisect import bisect_left
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import structlog
from aiokafka import TopicPartition
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from pipeline.cli.commands import app
from pipeline.cli.offsets import (
    PartitionState,
    ReplayMode,
    ReplayTarget,
    first_offset_at_or_after,
    new_offset,
    parse_time,
    preview_row,
    preview_rows,
    target_from_options,
)
from pipeline.config import get_settings

EARLIEST = ReplayTarget(mode=ReplayMode.earliest)
NOON = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)


def state(committed: int | None, beginning: int = 10, end: int = 50) -> PartitionState:
    return PartitionState("hotline.categorized", 0, beginning, end, committed)


def shift(n: int) -> ReplayTarget:
    return ReplayTarget(mode=ReplayMode.shift, shift=n)


def at_noon() -> ReplayTarget:
    return ReplayTarget(mode=ReplayMode.by_time, at=NOON)


# ---------------------------------------------------------------- targets


def test_the_command_line_asks_for_exactly_one_way() -> None:
    assert target_from_options(None, True, None) == EARLIEST
    assert target_from_options(None, False, -5) == shift(-5)
    assert target_from_options("2026-11-03T12:00:00+00:00", False, None) == at_noon()
    for wrong in [(None, False, None), ("2026-11-03", True, None), (None, True, 3)]:
        with pytest.raises(ValueError, match="exactly one"):
            target_from_options(*wrong)


def test_a_time_without_a_zone_is_local_and_garbage_is_refused() -> None:
    local = parse_time("2026-11-03T12:00:00")
    assert local.tzinfo is not None
    assert local.replace(tzinfo=None) == datetime(2026, 11, 3, 12, 0)
    assert parse_time("2026-11-03T17:00:00+05:00") == NOON
    with pytest.raises(ValueError, match="ISO"):
        parse_time("yesterday")


def test_a_target_refuses_a_time_or_a_count_that_does_not_go_with_it() -> None:
    with pytest.raises(ValueError):
        ReplayTarget(mode=ReplayMode.earliest, shift=3)
    with pytest.raises(ValueError):
        ReplayTarget(mode=ReplayMode.by_time)
    with pytest.raises(ValueError):
        ReplayTarget(mode=ReplayMode.shift, at=NOON)


# ---------------------------------------------------------------- new offsets


def test_to_earliest_is_the_beginning_whatever_was_committed() -> None:
    assert new_offset(EARLIEST, state(40), None) == 10
    assert new_offset(EARLIEST, state(None), None) == 10


def test_to_a_time_is_the_offset_found_or_the_end_when_no_message_is_that_late() -> None:
    assert new_offset(at_noon(), state(40), 23) == 23
    assert new_offset(at_noon(), state(40), None) == 50  # after the last message: its end
    assert new_offset(at_noon(), state(40), 3) == 10  # deleted by retention since: clamped


def test_a_shift_moves_the_group_from_where_it_is_within_the_partition() -> None:
    assert new_offset(shift(-5), state(40), None) == 35
    assert new_offset(shift(7), state(40), None) == 47
    assert new_offset(shift(-100), state(40), None) == 10  # not before the beginning
    assert new_offset(shift(100), state(40), None) == 50  # not past the end
    # A group that never committed here starts at the beginning: that is where it shifts from.
    assert new_offset(shift(4), state(None), None) == 14
    # An offset the retention has overtaken reads from the beginning too.
    assert new_offset(shift(2), state(3), None) == 12


def test_the_preview_counts_what_is_read_again_and_what_is_skipped() -> None:
    back = preview_row(state(40), 25)
    assert (back.committed, back.new_offset, back.re_read, back.skipped) == (40, 25, 15, 0)
    assert back.to_read == 25
    ahead = preview_row(state(40), 50)
    assert (ahead.re_read, ahead.skipped) == (0, 10)
    fresh = preview_row(state(None), 10)
    assert (fresh.committed, fresh.re_read, fresh.skipped) == (None, 0, 0)


def test_preview_rows_use_each_partitions_own_time_offset_in_order() -> None:
    states = [
        PartitionState("hotline.notices", 1, 0, 9, 9),
        PartitionState("hotline.notices", 0, 0, 5, 5),
    ]
    found = {TopicPartition("hotline.notices", 1): 4}  # partition 0: nothing that late
    rows = preview_rows(at_noon(), states, found)
    assert [(r.partition, r.new_offset, r.re_read) for r in rows] == [(0, 5, 0), (1, 4, 5)]


# ---------------------------------------------------------------- the search by time


def search(timestamps: dict[int, int], at_ms: int, beginning: int, end: int) -> int:
    """The binary search over a partition whose records are `timestamps` (offset → ms)."""
    offsets = sorted(timestamps)

    async def probe(offset: int) -> tuple[int, int] | None:
        following = offsets[bisect_left(offsets, offset) :]
        return (following[0], timestamps[following[0]]) if following else None

    return asyncio.run(first_offset_at_or_after(at_ms, beginning, end, probe))


def linear(timestamps: dict[int, int], at_ms: int, end: int) -> int:
    return next((o for o in sorted(timestamps) if timestamps[o] >= at_ms), end)


def test_the_search_finds_the_first_record_at_or_after_the_time() -> None:
    stamps = {n: 1000 + 10 * n for n in range(20)}
    assert search(stamps, 1055, 0, 20) == 6
    assert search(stamps, 1050, 0, 20) == 5  # at the time counts
    assert search(stamps, 0, 0, 20) == 0
    assert search(stamps, 9999, 0, 20) == 20  # after the last: the end
    assert search({}, 5, 0, 0) == 0


def test_the_search_steps_over_gaps_and_equal_timestamps() -> None:
    stamps = {3: 100, 4: 100, 9: 200, 10: 200, 11: 200, 15: 300}  # compacted: offsets missing
    found = search(stamps, 200, 3, 16)
    assert 4 < found <= 9  # from anywhere in the hole before offset 9, offset 9 is read next
    assert search(stamps, 100, 3, 16) == 3
    assert search(stamps, 301, 3, 16) == 16


@given(
    st.lists(st.tuples(st.booleans(), st.integers(0, 3)), max_size=60),
    st.integers(-1, 200),
)
def test_the_search_reads_from_the_same_message_a_full_scan_would(
    steps: list[tuple[bool, int]], at_ms: int
) -> None:
    stamps: dict[int, int] = {}
    clock = 0
    for offset, (present, tick) in enumerate(steps):
        clock += tick  # timestamps that never go back, offsets with holes
        if present:
            stamps[offset] = clock
    end = len(steps)
    found = search(stamps, at_ms, 0, end)
    expected = linear(stamps, at_ms, end)
    assert found <= expected
    assert not [o for o in stamps if found <= o < expected]


# ---------------------------------------------------------------- the command line


@pytest.fixture
def fresh_process() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    structlog.reset_defaults()
    get_settings.cache_clear()


@pytest.mark.usefixtures("fresh_process")
@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        (["replay", "categorise", "--to-earliest"], "unknown stage 'categorise'"),
        (["replay", "dispatch"], "give exactly one of"),
        (["replay", "dispatch", "--to-earliest", "--shift-by", "-3"], "give exactly one of"),
        (["replay", "dispatch", "--to-datetime", "last tuesday"], "use an ISO date"),
        (["dlq", "list", "nope"], "unknown stage 'nope'"),
        (["dlq", "list", "dispatch", "--limit", "0"], "--limit must be at least 1"),
        (["dlq", "replay", "nope", "--ids", "0:1"], "unknown stage 'nope'"),
    ],
)
def test_a_mistake_gets_one_line_and_exit_code_1(
    arguments: list[str], said: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTLINE_BOOTSTRAP", "127.0.0.1:9")  # never reached: it stops before
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 1
    assert said in " ".join(result.output.split())
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)
