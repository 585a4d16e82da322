"""What the ledger keeps of one topic message: a `Fact`, derived from the message alone.

Everything about an entry (its id, time, place in the case's order, summary line) comes from
the message's bytes, never from when or in which order the ledger read it: that is what lets
`hotline ledger rebuild` make the very same ledger from the topics, and `case verify` check
every stored column against the payload it came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property

import orjson
from pydantic import BaseModel, ValidationError

from pipeline.runtime.ids import case_id_for
from schemas import Envelope, LedgerContact, Rejection, ReviewDecision, ReviewReceipt
from schemas.dispatch import DeliveryReceipt, Notice
from schemas.ledger import Appeal, AppealDecision, LedgerKind

# Topic record kinds (topics.yaml `ledger:`); `contact` is kept apart from the chain.
RECORD_KINDS = (
    "envelope",
    "rejection",
    "review_decision",
    "review_receipt",
    "notice",
    "delivery_receipt",
    "appeal",
    "contact",
)

# Ties of time are broken by where an event sits in a case's life, then by id.
_STAGE_RANK = {
    "received": 1,
    "url-verify": 2,
    "content-check": 3,
    "categorize": 4,
    "jurisdiction": 7,
    "dispatch": 8,
}
_KIND_RANK = {
    "rejection": 0,
    "review_decision": 5,
    "review_receipt": 6,
    "notice": 9,
    "delivery_receipt": 10,
    "appeal": 11,
    "appeal_decision": 12,
}


class Unreadable(ValueError):
    """A message the ledger cannot keep (not the record its topic carries)."""


@dataclass(frozen=True)
class Fact:
    case_id: str
    entry_id: str
    topic: str
    kind: LedgerKind
    at: datetime
    stage: str | None
    outcome: str | None
    reason: str | None
    rule: str | None
    actor: str | None
    summary: str
    causation_id: str | None
    payload: str
    record: BaseModel  # the parsed message, for what the ledger derives from it

    @cached_property
    def order_key(self) -> str:
        rank = _STAGE_RANK.get(self.stage or "", 0) if self.kind == "envelope" else 0
        rank = rank or _KIND_RANK.get(self.kind, 0)
        return f"{iso(self.at)}|{rank:02d}|{self.entry_id}"

    def columns(self) -> dict[str, object]:
        """What is stored of the fact besides its place and hashes."""
        return {
            "case_id": self.case_id,
            "entry_id": self.entry_id,
            "topic": self.topic,
            "kind": self.kind,
            "at": iso(self.at),
            "order_key": self.order_key,
            "stage": self.stage,
            "outcome": self.outcome,
            "reason": self.reason,
            "rule": self.rule,
            "actor": self.actor,
            "summary": self.summary,
            "causation_id": self.causation_id,
            "payload": self.payload,
        }


def iso(moment: datetime) -> str:
    """UTC, microseconds, fixed width: sorts as text in every database."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def read_contact(value: bytes) -> LedgerContact:
    try:
        return LedgerContact.model_validate_json(value)
    except ValidationError as error:
        raise Unreadable(f"not a ledger contact: {error}") from error


def read_fact(topic: str, kind: str, value: bytes) -> Fact:
    """The fact a message of `topic` (carrying records of `kind`) states."""
    try:
        text = value.decode("utf-8")
        reader = _READERS[kind]
    except UnicodeDecodeError as error:
        raise Unreadable(f"not UTF-8: {error}") from error
    except KeyError:
        raise Unreadable(f"the ledger keeps no {kind!r} records") from None
    try:
        return reader(topic, text)
    except ValidationError as error:
        raise Unreadable(f"not a {kind} record: {error.error_count()} problems: {error}") from error


def _envelope(topic: str, text: str) -> Fact:
    event = Envelope.model_validate_json(text)
    case = event.case
    rule = actor = None
    summary = f"{event.stage}: {event.outcome}" + (f" ({event.reason})" if event.reason else "")
    if event.stage == "received":
        report = case.report
        summary = f"received: {report.category} report of {report.host}"
        if report.duplicate_of:
            summary += f", repeat no. {report.report_number} of {report.duplicate_of}"
    elif event.stage == "categorize" and case.category is not None:
        found = case.category
        rule = f"categorize {found.ruleset_version}"
        actor = found.reviewer
        summary = f"categorize: {found.verdict}"
        if found.category is not None:
            summary += f" as {found.category} ({found.confidence:.2f})"
    elif event.stage == "jurisdiction" and case.jurisdiction is not None:
        where = case.jurisdiction
        rule = f"{where.rule} ({where.ruleset_version})"
        summary = f"jurisdiction: {where.jurisdiction}, handled by {where.handled_by}" + (
            f", hosted in {where.country}" if where.country else ""
        )
    elif event.stage == "dispatch" and case.routing is not None:
        routing = case.routing
        rule = f"{', '.join(routing.rules)} ({routing.ruleset_version})"
        summary = f"dispatch: {len(routing.notices)} notices"
    return Fact(
        case_id=event.case_id,
        entry_id=event.event_id,
        topic=topic,
        kind="envelope",
        at=event.occurred_at,
        stage=event.stage,
        outcome=str(event.outcome),
        reason=event.reason,
        rule=rule,
        actor=actor,
        summary=summary,
        causation_id=event.causation_id,
        payload=text,
        record=event,
    )


def _rejection(topic: str, text: str) -> Fact:
    record = Rejection.model_validate_json(text)
    return Fact(
        case_id=case_id_for(record.causation_id),
        entry_id=record.event_id,
        topic=topic,
        kind="rejection",
        at=record.rejected_at,
        stage="received",
        outcome="rejected",
        reason=str(record.reason),
        rule=None,
        actor=None,
        summary=f"rejected: {record.message}",
        causation_id=record.causation_id,
        payload=text,
        record=record,
    )


def _review_decision(topic: str, text: str) -> Fact:
    record = ReviewDecision.model_validate_json(text)
    summary = f"review decision: {record.verdict}" + (
        f" as {record.category}" if record.category else ""
    )
    return Fact(
        case_id=record.case_id,
        entry_id=f"decision:{record.decision_id}",
        topic=topic,
        kind="review_decision",
        at=record.decided_at,
        stage=None,
        outcome=record.verdict,
        reason=record.note or None,
        rule=None,
        actor=record.reviewer,
        summary=summary,
        causation_id=None,
        payload=text,
        record=record,
    )


def _review_receipt(topic: str, text: str) -> Fact:
    record = ReviewReceipt.model_validate_json(text)
    return Fact(
        case_id=record.case_id,
        entry_id=f"decision:{record.decision_id}:answer",
        topic=topic,
        kind="review_receipt",
        at=record.answered_at,
        stage="categorize",
        outcome="accepted" if record.accepted else "refused",
        reason=record.problem,
        rule=None,
        actor=record.decided_by,
        summary=f"decision {'taken' if record.accepted else 'refused'}: {record.message}",
        causation_id=f"decision:{record.decision_id}",
        payload=text,
        record=record,
    )


def _notice(topic: str, text: str) -> Fact:
    record = Notice.model_validate_json(text)
    to = record.recipient
    return Fact(
        case_id=record.case_id,
        entry_id=f"notice:{record.idempotency_key}",
        topic=topic,
        kind="notice",
        at=record.issued_at,
        stage="dispatch",
        outcome=record.kind,
        reason=None,
        rule=record.rule,
        actor=None,
        summary=f"notice {record.kind} to {to.kind} {to.name} ({to.channel}: {to.address})",
        causation_id=None,
        payload=text,
        record=record,
    )


def _delivery_receipt(topic: str, text: str) -> Fact:
    record = DeliveryReceipt.model_validate_json(text)
    return Fact(
        case_id=record.case_id,
        entry_id=f"{record.idempotency_key}:{record.status}",  # as delivery names its events
        topic=topic,
        kind="delivery_receipt",
        at=record.at,
        stage="delivery",
        outcome=record.status,
        reason=record.detail or None,
        rule=None,
        actor=record.by,
        summary=f"{record.kind} {record.status}: {record.recipient}",
        causation_id=f"notice:{record.idempotency_key}",
        payload=text,
        record=record,
    )


def _appeal(topic: str, text: str) -> Fact:
    document = orjson.loads(text)
    if isinstance(document, dict) and document.get("record") == "appeal_decision":
        decision = AppealDecision.model_validate_json(text)
        return Fact(
            case_id=decision.case_id,
            entry_id=f"appeal:{decision.appeal_id}:decision",
            topic=topic,
            kind="appeal_decision",
            at=decision.decided_at,
            stage=None,
            outcome=decision.outcome,
            reason=decision.reason,
            rule=None,
            actor=decision.reviewer,
            summary=f"appeal {decision.outcome}: {decision.reason}",
            causation_id=f"appeal:{decision.appeal_id}",
            payload=text,
            record=decision,
        )
    appeal = Appeal.model_validate_json(text)
    return Fact(
        case_id=appeal.case_id,
        entry_id=f"appeal:{appeal.appeal_id}",
        topic=topic,
        kind="appeal",
        at=appeal.submitted_at,
        stage=None,
        outcome="submitted",
        reason=None,
        rule=None,
        actor=None,
        summary=f"appeal against registry entry {appeal.entry_id}",
        causation_id=None,
        payload=text,
        record=appeal,
    )


_READERS = {
    "envelope": _envelope,
    "rejection": _rejection,
    "review_decision": _review_decision,
    "review_receipt": _review_receipt,
    "notice": _notice,
    "delivery_receipt": _delivery_receipt,
    "appeal": _appeal,
}
