"""`hotline review list|decide`: the analysts' queue, read from the topics themselves.

A case waits when the categorize stage sent it to `hotline.review` and no decision on it has
been taken (an accepted receipt on `hotline.review-receipts`). A decision is published to
`hotline.review-decisions`, keyed by case id; the stage answers it with a receipt, which
`decide` waits for: the stage, not this command, is the judge of who decided first.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from rich.table import Table

from pipeline.config import Settings
from pipeline.decisions import new_decision as new_decision  # shared with the gateway
from pipeline.runtime.kafka_io import kafka_producer, read_topic
from pipeline.runtime.topics import REVIEW, REVIEW_DECISIONS, REVIEW_RECEIPTS
from schemas import Envelope, ReviewDecision, ReviewReceipt


@dataclass(frozen=True)
class Queue:
    waiting: list[Envelope]  # oldest first
    decided: dict[str, str]  # case id → who decided it

    def find(self, case_id: str) -> Envelope | None:
        return next((case for case in self.waiting if case.case_id == case_id), None)


async def _receipts(bootstrap: str) -> list[ReviewReceipt]:
    records = await read_topic(bootstrap, REVIEW_RECEIPTS)
    return [ReviewReceipt.model_validate_json(r.value) for r in records if r.value]


async def queue(bootstrap: str) -> Queue:
    reviews: dict[str, Envelope] = {}
    for record in await read_topic(bootstrap, REVIEW):
        if record.value:
            case = Envelope.model_validate_json(record.value)
            reviews.setdefault(case.case_id, case)  # a replayed event is the same case
    decided = {
        r.case_id: r.decided_by or r.message for r in await _receipts(bootstrap) if r.accepted
    }
    waiting = sorted(
        (case for case in reviews.values() if case.case_id not in decided),
        key=lambda case: case.occurred_at,
    )
    return Queue(waiting, decided)


def age(case: Envelope, now: datetime) -> str:
    seconds = int((now - case.occurred_at).total_seconds())
    hours, rest = divmod(max(seconds, 0), 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"


def queue_table(waiting: list[Envelope], now: datetime) -> Table:
    table = Table(title=f"Review queue: {len(waiting)} waiting, oldest first")
    for column in ("case", "age", "reported", "suggested", "why", "url", "evidence"):
        table.add_column(column)
    for case in waiting:
        found = case.case.category
        content = case.case.content
        kept = [
            f"{label} {stored.sha256[:12]}"
            for label, stored in (
                ("page", content.evidence if content else None),
                ("screenshot", content.screenshot if content else None),
            )
            if stored is not None
        ]
        if content is not None and content.withheld:
            kept.append("hashes only")
        table.add_row(
            case.case_id,
            age(case, now),
            str(case.case.report.category),
            str(found.suggested) if found and found.suggested else "-",
            found.why if found else "",
            case.case.report.url,
            ", ".join(kept) or "-",
        )
    return table


async def decide(
    settings: Settings, bootstrap: str, decision: ReviewDecision, timeout: float
) -> ReviewReceipt:
    """Publish the decision and return the stage's receipt for it."""
    async with kafka_producer(settings, bootstrap) as producer:
        await producer.send_and_wait(
            REVIEW_DECISIONS, decision.model_dump_json().encode(), key=decision.case_id.encode()
        )
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        for answer in await _receipts(bootstrap):
            if answer.decision_id == decision.decision_id:
                return answer
        await asyncio.sleep(0.5)
    raise TimeoutError(
        f"no answer from the categorize stage within {timeout:.0f}s: is it running? "
        f"The decision {decision.decision_id} is on {REVIEW_DECISIONS} and will be taken "
        "when it runs, unless someone decides first."
    )
