"""Whole case histories as the topics carry them, for the ledger's tests and benchmark: a case
received, checked, categorized and dispatched, its notices and their receipts, or one closed on
the way. Each event is built with the real models, its times a few seconds apart."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from pipeline.ledger.store import LedgerMessage
from pipeline.runtime.ids import event_id_for
from pipeline.runtime.topics import DELIVERIES, NOTICES, TERMINATED
from pipeline.sandbox.cases import received_envelope
from schemas import (
    CategoryDecision,
    ContentFacts,
    Envelope,
    Outcome,
    Producer,
    UrlFacts,
    Verdict,
)
from schemas.dispatch import DeliveryReceipt, DeliveryStatus, Notice, NoticeKind, RoutingDecision
from schemas.jurisdiction import Recipient
from schemas.report import Category

STAGE_TOPICS = {
    "received": "hotline.received",
    "url-verify": "hotline.url-verified",
    "content-check": "hotline.content-checked",
    "categorize": "hotline.categorized",
    "jurisdiction": "hotline.jurisdiction-resolved",
    "dispatch": "hotline.dispatched",
}


def _next(previous: Envelope, stage: str, at: datetime, **snapshot: object) -> Envelope:
    return previous.model_copy(
        update={
            "stage": stage,
            "event_id": event_id_for(previous.case_id, stage, previous.event_id),
            "causation_id": previous.event_id,
            "occurred_at": at,
            "producer": Producer(service=f"hotline-{stage}", version="0"),
            "case": previous.case.model_copy(update=snapshot),
        }
    )


def _message(topic: str, record: Envelope | Notice | DeliveryReceipt, key: str) -> LedgerMessage:
    return LedgerMessage(topic, record.model_dump_json().encode(), key.encode())


def notice_for(
    case: Envelope, kind: NoticeKind, recipient: Recipient, at: datetime, basis: str
) -> Notice:
    key = hashlib.sha256(f"{case.case_id}|{recipient.kind}:{recipient.address}|{kind}".encode())
    report = case.case.report
    return Notice(
        idempotency_key=key.hexdigest()[:32],
        case_id=case.case_id,
        kind=kind,
        recipient=recipient,
        rule=f"sample.{kind}",
        basis=basis,
        category=report.category,
        url=None if report.category == Category.csam else report.url,
        host=report.host,
        issued_at=at,
        deadline=at + timedelta(hours=24),
        language="ru",
        subject=f"{kind} {case.case_id}",
        body=f"Notice about {report.host}.",
    )


def receipt_for(notice: Notice, status: DeliveryStatus, at: datetime) -> DeliveryReceipt:
    return DeliveryReceipt(
        idempotency_key=notice.idempotency_key,
        case_id=notice.case_id,
        kind=notice.kind,
        recipient=f"{notice.recipient.kind}: {notice.recipient.address}",
        channel=notice.recipient.channel,
        status=status,
        at=at,
        attempts=1,
        deadline=notice.deadline,
        by="operator" if status == "confirmed" else None,
    )


HOSTING = Recipient(
    kind="hosting", name="Sample Hosting", channel="email", address="abuse@hosting.test", source="x"
)
BLOCKING = Recipient(
    kind="blocking_authority",
    name="Blocking authority (sample)",
    channel="email",
    address="block@authority.test",
    source="directory",
)


def case_history(
    case_id: str,
    host: str,
    category: Category,
    start: datetime,
    *,
    ending: str = "dispatched",
    blocking: bool = False,
    confirmed: bool = True,
) -> list[LedgerMessage]:
    """Every message of one case on the ledger's topics, in the order they were made.

    `ending`: `dispatched`, `terminated` (at content-check, `content_removed`) or `review`.
    """
    url = f"http://{host}/page"
    received = received_envelope(url, host, case_id, category)
    report = received.case.report.model_copy(update={"submitted_at": start, "received_at": start})
    received = received.model_copy(
        update={
            "occurred_at": start + timedelta(seconds=1),
            "case": received.case.model_copy(update={"report": report}),
        }
    )
    at = start + timedelta(seconds=2)
    verified = _next(
        received,
        "url-verify",
        at,
        url=UrlFacts(
            checked_at=at,
            host=host,
            addresses=["127.1.0.10"],
            cname_chain=[],
            final_url=url,
            status=200,
            attempts=1,
        ),
    )
    messages = [
        _message(STAGE_TOPICS["received"], received, case_id),
        _message(STAGE_TOPICS["url-verify"], verified, case_id),
    ]
    at += timedelta(seconds=3)
    content = ContentFacts(
        checked_at=at, url=url, status=200, declared_type="text/html", mime="text/html",
        size=1200, truncated=False, sha256="ab" * 32, text="sample text", attempts=1,
    )  # fmt: skip
    if ending == "terminated":
        closed = _next(verified, "content-check", at, content=content)
        closed = closed.model_copy(
            update={"outcome": Outcome.terminated, "reason": "content_removed"}
        )
        return [*messages, _message(TERMINATED, closed, case_id)]
    checked = _next(verified, "content-check", at, content=content)
    messages.append(_message(STAGE_TOPICS["content-check"], checked, case_id))
    at += timedelta(seconds=2)
    decision = CategoryDecision(
        decided_at=at,
        verdict=Verdict.needs_review if ending == "review" else Verdict.confirmed,
        reported=category,
        category=None if ending == "review" else category,
        suggested=category,
        confidence=0.9,
        ruleset_version="sample",
        why="Sample decision.",
    )
    categorized = _next(checked, "categorize", at, category=decision)
    if ending == "review":
        waiting = categorized.model_copy(update={"outcome": Outcome.review, "reason": "low_score"})
        return [*messages, _message("hotline.review", waiting, case_id)]
    messages.append(_message(STAGE_TOPICS["categorize"], categorized, case_id))
    at += timedelta(seconds=4)
    notices = [notice_for(categorized, "takedown_request", HOSTING, at, "Sample basis.")]
    if blocking:
        notices.append(
            notice_for(categorized, "blocking_request", BLOCKING, at, "Law on sample, art. 1.")
        )
    routing = RoutingDecision(
        decided_at=at,
        rules=[n.rule for n in notices],
        ruleset_version="sample",
        notices=[n.idempotency_key for n in notices],
        recipients=[f"{n.recipient.kind}: {n.recipient.name}" for n in notices],
    )
    dispatched = _next(categorized, "dispatch", at, routing=routing)
    messages.append(_message(STAGE_TOPICS["dispatch"], dispatched, case_id))
    for notice in notices:
        messages.append(_message(NOTICES, notice, case_id))
    for notice in notices:
        delivered = receipt_for(notice, "delivered", at + timedelta(seconds=30))
        messages.append(_message(DELIVERIES, delivered, notice.idempotency_key))
        if confirmed:
            done = receipt_for(notice, "confirmed", at + timedelta(hours=3))
            messages.append(_message(DELIVERIES, done, notice.idempotency_key))
    return messages
