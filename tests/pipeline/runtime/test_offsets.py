"""The commit rule: never past an unfinished event, forget everything at a new generation."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pipeline.runtime.offsets import OffsetTracker, Partition

P0 = Partition("hotline.intake", 0)
P1 = Partition("hotline.intake", 1)


def test_nothing_to_commit_before_an_event_finished() -> None:
    tracker = OffsetTracker()
    assert tracker.begin(P0, 10, generation=1)
    assert tracker.committable() == {}


def test_commit_point_stops_at_the_oldest_unfinished_event() -> None:
    tracker = OffsetTracker()
    for offset in (10, 11, 12):
        tracker.begin(P0, offset, 1)
    tracker.finish(P0, 12, 1)
    tracker.finish(P0, 10, 1)
    assert tracker.committable() == {P0: 11}
    tracker.finish(P0, 11, 1)
    assert tracker.committable() == {P0: 13}


def test_committed_points_are_not_offered_again() -> None:
    tracker = OffsetTracker()
    tracker.begin(P0, 5, 1)
    tracker.begin(P1, 7, 1)
    tracker.finish(P0, 5, 1)
    tracker.finish(P1, 7, 1)
    tracker.committed({P0: 6}, generation=1)
    assert tracker.committable() == {P1: 8}


def test_a_new_generation_forgets_the_old_one() -> None:
    tracker = OffsetTracker()
    tracker.begin(P0, 10, 1)
    tracker.begin(P0, 11, 1)
    tracker.finish(P0, 11, 1)
    assert tracker.begin(P0, 10, 2)  # re-fetched after the rebalance's seek
    tracker.finish(P0, 10, 1)  # the old copy finishing changes nothing
    assert tracker.committable() == {}
    assert not tracker.begin(P0, 12, 1)  # a stale event is left alone
    tracker.finish(P0, 10, 2)
    assert tracker.committable() == {P0: 11}


def test_a_commit_made_in_an_older_generation_is_not_recorded() -> None:
    tracker = OffsetTracker()
    tracker.begin(P0, 1, 2)
    tracker.finish(P0, 1, 2)
    tracker.committed({P0: 2}, generation=1)
    assert tracker.committable() == {P0: 2}


def test_forgotten_partitions_are_not_committed() -> None:
    tracker = OffsetTracker()
    tracker.begin(P0, 3, 1)
    tracker.begin(P1, 3, 1)
    tracker.forget({P0})
    tracker.finish(P0, 3, 1)
    tracker.finish(P1, 3, 1)
    assert tracker.committable() == {P1: 4}
    assert tracker.in_flight() == 0


@given(st.permutations(list(range(20))), st.integers(min_value=0, max_value=20))
def test_never_commits_past_an_unfinished_offset(order: list[int], finished: int) -> None:
    tracker = OffsetTracker()
    for offset in range(20):
        tracker.begin(P0, offset, 1)
    done = set(order[:finished])
    for offset in order[:finished]:
        tracker.finish(P0, offset, 1)
    point = tracker.committable().get(P0, 0)
    assert all(offset in done for offset in range(point))
    if finished == 20:
        assert point == 20
