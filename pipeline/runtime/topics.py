"""The topic registry: the shared names, and every topic's spec from `topics.yaml`."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from pydantic import BaseModel, ConfigDict

from pipeline.config import Settings

# The topics every stage and tool shares: where reports enter and where cases end or wait.
# A stage declares its own topics in its module; topics.yaml lists them all.
INTAKE = "hotline.intake"
REJECTED = "hotline.rejected"
TERMINATED = "hotline.terminated"
REVIEW = "hotline.review"
# Analysts' decisions and the categorize stage's answers: written by people and tools too.
REVIEW_DECISIONS = "hotline.review-decisions"
REVIEW_RECEIPTS = "hotline.review-receipts"
# Appeals against registry entries and their outcomes (schemas/ledger.py), keyed by case id.
APPEALS = "hotline.appeals"
# The lag monitor's rounds, read by the dashboard and `hotline lag`.
MONITOR = "hotline.monitor"
# Reporter contact per case (compacted): written by received, read only by the ledger.
LEDGER_CONTACTS = "hotline.ledger.contacts"
# Notices and their receipts: written by dispatch and delivery, read by the ledger and operators.
NOTICES = "hotline.notices"
DELIVERIES = "hotline.deliveries"


def dead_letter_topic(stage: str) -> str:
    return f"hotline.dlq.{stage}"


PROJECT_TOPICS_FILE = Path(__file__).resolve().parents[2] / "topics.yaml"
_DURATION = re.compile(r"^(\d+)([dhms])$")
_UNIT_MS = {"d": 86_400_000, "h": 3_600_000, "m": 60_000, "s": 1000}


class TopicSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    purpose: str
    partitions: int
    retention_ms: int  # -1: forever
    compacted: bool = False
    ledger: str | None = None  # the record kind the case ledger keeps from it

    def configs(self) -> dict[str, str]:
        return {
            "cleanup.policy": "compact" if self.compacted else "delete",
            "retention.ms": str(self.retention_ms),
        }


def parse_retention(text: str) -> int:
    if text == "forever":
        return -1
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"retention {text!r}: use e.g. 30d, 12h, 15m, 60s or forever")
    return int(match.group(1)) * _UNIT_MS[match.group(2)]


def load_topics(path: Path | None = None) -> dict[str, TopicSpec]:
    document = yaml.safe_load((path or PROJECT_TOPICS_FILE).read_text())
    defaults = document.get("defaults", {})
    specs: dict[str, TopicSpec] = {}
    for entry in document["topics"]:
        merged = {**defaults, **entry}
        spec = TopicSpec(
            name=merged["name"],
            purpose=merged["purpose"],
            partitions=int(merged["partitions"]),
            retention_ms=parse_retention(str(merged["retention"])),
            compacted=bool(merged.get("compacted", False)),
            ledger=merged.get("ledger"),
        )
        specs[spec.name] = spec
    return specs


@dataclass
class TopicsReport:
    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)  # "name: why"


async def create_topics(settings: Settings, bootstrap: str) -> TopicsReport:
    """Create every topic of the registry that does not exist yet; safe to run again."""
    specs = load_topics(settings.topics_file)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30_000)
    await admin.start()
    report = TopicsReport()
    try:
        present = set(await admin.list_topics())
        missing = [spec for name, spec in specs.items() if name not in present]
        if missing:
            await admin.create_topics(
                [
                    NewTopic(s.name, s.partitions, settings.replication_factor, None, s.configs())
                    for s in missing
                ]
            )
            report.created = [s.name for s in missing]
            await _wait_for_leaders(admin, report.created)
        existing = [name for name in specs if name in present]
        report.existing = existing
        if existing:
            for described in await admin.describe_topics(existing):
                name = described["topic"]
                count = len(described["partitions"])
                if count != specs[name].partitions:
                    report.mismatched.append(
                        f"{name}: has {count} partitions, topics.yaml says {specs[name].partitions}"
                    )
    finally:
        await admin.close()
    return report


async def _wait_for_leaders(
    admin: AIOKafkaAdminClient, names: list[str], timeout: float = 30
) -> None:
    """New topics get their partition leaders a moment after they are created; a client that
    writes before that sees errors it retries. Waiting here keeps a normal start quiet."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        described = await admin.describe_topics(names)
        if all(
            t.get("error_code", 0) == 0
            and t["partitions"]
            and all(p["leader"] >= 0 for p in t["partitions"])
            for t in described
        ):
            return
        await asyncio.sleep(0.1)
