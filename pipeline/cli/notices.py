"""`hotline notices overdue|confirm`: notices past their deadline without confirmation, read
from `hotline.notices` and `hotline.deliveries`; a confirmation recorded by an operator."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from rich.table import Table

from pipeline.config import Settings
from pipeline.runtime.kafka_io import kafka_producer, read_topic
from pipeline.runtime.topics import DELIVERIES, NOTICES
from schemas.dispatch import DeliveryReceipt, Notice


@dataclass(frozen=True)
class NoticeState:
    notice: Notice
    receipt: DeliveryReceipt | None  # the latest

    @property
    def status(self) -> str:
        return self.receipt.status if self.receipt else "not sent"

    def overdue(self, now: datetime) -> bool:
        return self.notice.deadline < now and self.status != "confirmed"


async def notice_states(bootstrap: str) -> list[NoticeState]:
    notices: dict[str, Notice] = {}
    for record in await read_topic(bootstrap, NOTICES):
        try:
            notice = Notice.model_validate_json(record.value)
        except ValueError:
            continue  # not a notice: the delivery worker dead-letters it
        notices[notice.idempotency_key] = notice
    latest: dict[str, DeliveryReceipt] = {}
    for record in await read_topic(bootstrap, DELIVERIES):
        try:
            receipt = DeliveryReceipt.model_validate_json(record.value)
        except ValueError:
            continue  # not a receipt: nothing to say about a notice
        latest[receipt.idempotency_key] = receipt  # one key, one partition: in order
    return [NoticeState(n, latest.get(key)) for key, n in notices.items()]


def overdue_rows(states: list[NoticeState], now: datetime) -> list[dict[str, str]]:
    late = sorted((s for s in states if s.overdue(now)), key=lambda s: s.notice.deadline)
    return [
        {
            "key": s.notice.idempotency_key,
            "case_id": s.notice.case_id,
            "kind": s.notice.kind,
            "recipient": f"{s.notice.recipient.kind}: {s.notice.recipient.name}",
            "address": s.notice.recipient.address,
            "deadline": s.notice.deadline.isoformat(),
            "late_hours": f"{(now - s.notice.deadline).total_seconds() / 3600:.1f}",
            "status": s.status,
        }
        for s in late
    ]


def overdue_table(rows: list[dict[str, str]]) -> Table:
    table = Table(title=f"Notices past their deadline, not confirmed: {len(rows)}")
    for column in ("case_id", "kind", "recipient", "deadline", "late_hours", "status", "key"):
        table.add_column(column, no_wrap=column in ("case_id", "key"))
    for row in rows:
        table.add_row(*(row[c] for c in ("case_id", "kind", "recipient", "deadline",
                                          "late_hours", "status", "key")))  # fmt: skip
    return table


async def confirm(
    settings: Settings, bootstrap: str, key: str, by: str, note: str
) -> DeliveryReceipt:
    """Record that the recipient acted on notice `key` (KeyError: no such notice)."""
    found = {s.notice.idempotency_key: s for s in await notice_states(bootstrap)}
    if key not in found:
        raise KeyError(f"no notice with the key {key!r}")
    state = found[key]
    notice = state.notice
    receipt = DeliveryReceipt(
        idempotency_key=key,
        case_id=notice.case_id,
        kind=notice.kind,
        recipient=f"{notice.recipient.kind}: {notice.recipient.address}",
        channel=notice.recipient.channel,
        status="confirmed",
        at=datetime.now(UTC),
        attempts=state.receipt.attempts if state.receipt else 0,
        deadline=notice.deadline,
        not_before=notice.not_before,
        detail=note,
        by=by,
    )
    async with kafka_producer(settings, bootstrap) as producer:
        await producer.send_and_wait(
            DELIVERIES, receipt.model_dump_json().encode(), key=key.encode()
        )
    return receipt
