from __future__ import annotations

from aiokafka.partitioner import DefaultPartitioner
from hypothesis import given
from hypothesis import strategies as st

from pipeline.runtime.ids import (
    case_id_for,
    causation_for_intake,
    event_id_for,
    partition_for_key,
    status_token_for,
)


def test_ids_are_deterministic_and_distinct() -> None:
    case = case_id_for("submission:a")
    assert case == case_id_for("submission:a") != case_id_for("submission:b")
    assert event_id_for(case, "received", "x") == event_id_for(case, "received", "x")
    assert event_id_for(case, "received", "x") != event_id_for(case, "url-verify", "x")


def test_causation_prefers_the_submission_id() -> None:
    assert causation_for_intake("s-1", 3, 9) == "submission:s-1"
    assert causation_for_intake(None, 3, 9) == "intake:3:9"


def test_status_token_depends_on_the_secret() -> None:
    case = case_id_for("intake:0:0")
    assert status_token_for(case, "one") != status_token_for(case, "two")
    assert len(status_token_for(case, "one")) == 24


@given(st.binary(min_size=1, max_size=64), st.integers(min_value=1, max_value=64))
def test_partition_matches_the_kafka_default_partitioner(key: bytes, partitions: int) -> None:
    every = list(range(partitions))
    assert partition_for_key(key, partitions) == DefaultPartitioner()(key, every, every)
