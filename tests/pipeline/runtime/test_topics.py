from __future__ import annotations

import pytest

from agents.received import LEDGER_CONTACTS
from pipeline.runtime import topics
from pipeline.runtime.topics import load_topics, parse_retention


def test_every_shared_topic_name_is_registered() -> None:
    registered = load_topics()
    named = [
        value
        for name, value in vars(topics).items()
        if name.isupper() and str(value).startswith("hotline.")
    ]
    assert named and all(name in registered for name in named)


def test_case_topics_share_one_partition_count() -> None:
    counts = {spec.partitions for name, spec in load_topics().items() if name != LEDGER_CONTACTS}
    assert len(counts) == 1


def test_contacts_are_compacted_and_kept() -> None:
    spec = load_topics()[LEDGER_CONTACTS]
    assert spec.configs() == {"cleanup.policy": "compact", "retention.ms": "-1"}


@pytest.mark.parametrize(
    ("text", "ms"), [("30d", 2_592_000_000), ("2h", 7_200_000), ("forever", -1)]
)
def test_parse_retention(text: str, ms: int) -> None:
    assert parse_retention(text) == ms


def test_bad_retention_is_explained() -> None:
    with pytest.raises(ValueError, match="30d"):
        parse_retention("a month")
