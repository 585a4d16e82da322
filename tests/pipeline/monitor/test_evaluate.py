"""The statuses of the lag monitor's evaluation, from hand-made series of samples."""

from __future__ import annotations

import pytest

from pipeline.monitor.evaluate import (
    PartitionSample,
    consumed,
    partition_status,
    rate_per_s,
    worst,
)

WINDOW = 4


def series(
    committed: list[int | None],
    latest: list[int],
    members: int | list[int] = 1,
    earliest: int = 0,
    every: float = 5.0,
) -> list[PartitionSample]:
    crew = members if isinstance(members, list) else [members] * len(committed)
    return [
        PartitionSample(n * every, earliest, end, offset, crew[n])
        for n, (offset, end) in enumerate(zip(committed, latest, strict=True))
    ]


def test_a_group_keeping_up_is_ok() -> None:
    samples = series([10, 20, 30, 40], [10, 22, 30, 41])
    assert partition_status(samples, WINDOW) == "OK"


def test_a_group_with_no_lag_and_no_members_is_ok_not_stopped() -> None:
    samples = series([40, 40, 40, 40], [40, 40, 40, 40], members=0)
    assert partition_status(samples, WINDOW) == "OK"


def test_lag_and_no_members_and_no_commits_is_stop() -> None:
    samples = series([40, 40, 40, 40], [40, 45, 50, 55], members=0)
    assert partition_status(samples, WINDOW) == "STOP"


def test_lag_with_members_not_committing_is_stall() -> None:
    samples = series([40, 40, 40, 40], [50, 50, 50, 50], members=2)
    assert partition_status(samples, WINDOW) == "STALL"


def test_lag_growing_at_every_step_while_consuming_is_warn() -> None:
    samples = series([10, 20, 30, 40], [15, 30, 50, 80])
    assert partition_status(samples, WINDOW) == "WARN"


def test_lag_growing_at_some_steps_only_is_ok() -> None:
    samples = series([10, 20, 30, 40], [15, 30, 35, 80])  # 5, 10, 5, 40
    assert partition_status(samples, WINDOW) == "OK"


def test_a_committed_offset_going_back_is_rewind() -> None:
    samples = series([100, 120, 0, 10], [130, 130, 130, 130])
    assert partition_status(samples, WINDOW) == "REWIND"


def test_a_deleted_committed_offset_is_a_rewind() -> None:
    samples = series([100, 100, None], [130, 130, 130], members=0)
    assert partition_status(samples, WINDOW) == "REWIND"


def test_a_rewind_ages_out_of_the_window() -> None:
    samples = series([100, 0, 10, 20, 30, 40], [130] * 6)
    assert partition_status(samples, WINDOW) == "OK"  # the last four: 0→40, moving


def test_the_window_is_the_last_samples_only() -> None:
    # Moving long ago, stopped for the whole window since.
    samples = series([10, 20, 30, 30, 30, 30], [40, 40, 40, 45, 50, 55], members=0)
    assert partition_status(samples, WINDOW) == "STOP"
    assert partition_status(samples, 6) == "OK"  # over six rounds it moved


def test_a_group_that_just_stopped_is_not_stop_until_its_offsets_rest_a_window() -> None:
    samples = series([10, 20, 30, 30], [40, 40, 45, 50], members=[1, 1, 0, 0])
    assert partition_status(samples, WINDOW) == "OK"
    samples += series([30, 30], [55, 60], members=0)
    assert partition_status(samples, WINDOW) == "STOP"


def test_a_single_sample_is_stop_with_lag_and_no_members_else_ok() -> None:
    assert partition_status(series([5], [10], members=0), WINDOW) == "STOP"
    assert partition_status(series([5], [10], members=1), WINDOW) == "OK"
    assert partition_status(series([10], [10], members=0), WINDOW) == "OK"


def test_fewer_samples_than_the_window_are_judged_as_they_are() -> None:
    assert partition_status(series([5, 5], [10, 12], members=2), WINDOW) == "STALL"
    assert partition_status(series([5, 5], [10, 12], members=0), WINDOW) == "STOP"
    # One step of growth is not yet a trend.
    assert partition_status(series([5, 7], [10, 20]), WINDOW) == "OK"
    assert partition_status(series([5, 7, 9], [10, 20, 30]), WINDOW) == "WARN"


def test_no_samples_is_ok() -> None:
    assert partition_status([], WINDOW) == "OK"


def test_a_partition_never_committed_starts_at_the_earliest_offset() -> None:
    # Nothing consumed, nobody there: the whole partition is lag.
    samples = series([None, None, None], [20, 20, 25], members=0, earliest=5)
    assert samples[-1].lag == 20
    assert partition_status(samples, WINDOW) == "STOP"
    # A member holding it without committing for the window.
    assert partition_status(series([None, None], [20, 20], members=1), WINDOW) == "STALL"
    # A first commit is a move, not a rewind.
    assert partition_status(series([None, None, 20], [20, 20, 20]), WINDOW) == "OK"


def test_an_empty_topic_is_ok_whoever_is_there() -> None:
    for members in (0, 1):
        samples = series([None, None, None], [0, 0, 0], members=members)
        assert samples[-1].lag == 0
        assert partition_status(samples, WINDOW) == "OK"


def test_a_new_partition_is_judged_on_its_own_few_samples() -> None:
    # Appeared in the last round, already holding messages no one read.
    assert partition_status(series([None], [3], members=0), WINDOW) == "STOP"
    assert partition_status(series([None], [3], members=1), WINDOW) == "OK"


def test_a_committed_offset_behind_retention_counts_from_the_earliest() -> None:
    sample = PartitionSample(0.0, earliest=50, latest=60, committed=10, members=0)
    assert sample.position == 50 and sample.lag == 10


def test_group_status_is_the_worst_partition() -> None:
    assert worst(["OK", "WARN", "OK"]) == "WARN"
    assert worst(["REWIND", "WARN"]) == "REWIND"
    assert worst(["STALL", "REWIND", "OK"]) == "STALL"
    assert worst(["OK", "STOP", "STALL"]) == "STOP"
    assert worst([]) == "OK"


def test_rate_is_messages_consumed_over_the_window_seconds() -> None:
    one = series([0, 10, 20, 30], [40] * 4)  # 30 in 15 s
    two = series([5, 5, 20, 35], [40] * 4)  # 30 in 15 s
    assert consumed(one, WINDOW) == 30
    assert rate_per_s([one, two], WINDOW) == pytest.approx(4.0)
    # A rewind's step back is no consumption.
    assert consumed(series([100, 0, 10], [100] * 3), WINDOW) == 10
    assert rate_per_s([series([7], [9])], WINDOW) == 0.0
