"""The stage registry: every stage declares what a worker needs, and topics.yaml has it all."""

from __future__ import annotations

import itertools

import pytest

from pipeline.cli.stages import (
    STAGE_MODULES,
    all_specs,
    final_output,
    stage_spec,
    undeclared_topics,
)
from pipeline.runtime.topics import TERMINATED, dead_letter_topic, load_topics


@pytest.mark.parametrize("name", list(STAGE_MODULES))
def test_a_stage_declares_topics_that_are_registered(name: str) -> None:
    spec = stage_spec(name)
    registered = set(load_topics())
    assert spec.name == name
    assert undeclared_topics(spec, registered) == []
    assert dead_letter_topic(name) in registered


def test_stages_hand_cases_on_in_pipeline_order() -> None:
    specs = all_specs()
    for before, after in itertools.pairwise(specs):
        assert after.inputs[0] == before.forward
    assert final_output() == specs[-1].forward


@pytest.mark.parametrize("name", list(STAGE_MODULES))
def test_every_reason_a_stage_gives_has_a_sentence(name: str) -> None:
    codes = [code for enum in stage_spec(name).reasons for code in enum]
    assert len({str(code) for code in codes}) == len(codes)  # no code means two things
    assert all(code.sentence.endswith(".") for code in codes)


def test_an_unknown_stage_is_named_with_what_exists() -> None:
    with pytest.raises(KeyError, match="received"):
        stage_spec("categorise")


def test_a_topic_missing_from_the_registry_is_found() -> None:
    assert undeclared_topics(stage_spec("url-verify"), {"hotline.received"}) == [
        "hotline.url-verified",
        TERMINATED,
    ]
