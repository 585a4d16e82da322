"""What views need of a case, folded from its entries in their order (pure).

Applying the entries of a case one by one in their order always gives the same rows, however
the ledger happened to read them: a late entry makes the ledger fold the case again from its
start. The rows are plain dictionaries shaped as the tables' rows.
"""

from __future__ import annotations

from typing import Any

from pipeline.ledger.facts import Fact, iso
from schemas import Envelope, Outcome, Rejection, ReviewReceipt
from schemas.dispatch import DeliveryReceipt, Notice
from schemas.ledger import Appeal, AppealDecision

Row = dict[str, Any]

# Everything past the received stage and before dispatch is "being checked" to a reporter.
_CHECKING = {"url-verify", "content-check", "categorize", "jurisdiction"}


def new_case(case_id: str) -> Row:
    return {"case_id": case_id, "entries": 0, "head_key": "", "head_hash": ""}


class CaseFold:
    """The case's summary row, registry rows and appeal rows, entry by entry."""

    def __init__(self, case: Row, registry: dict[str, Row], appeals: dict[str, Row]) -> None:
        self.case = case
        self.registry = registry
        self.appeals = appeals

    def apply(self, fact: Fact) -> None:
        record = fact.record
        if isinstance(record, Envelope):
            self._envelope(fact, record)
        elif isinstance(record, Rejection):
            self._status(fact, "closed", str(record.reason))
        elif isinstance(record, ReviewReceipt):
            if record.accepted:
                self._review(fact, waiting=False)
        elif isinstance(record, Notice):
            self._notice(fact, record)
        elif isinstance(record, DeliveryReceipt):
            self._receipt(fact, record)
        elif isinstance(record, Appeal):
            self._appeal(fact, record)
        elif isinstance(record, AppealDecision):
            self._appeal_decision(fact, record)

    def _envelope(self, fact: Fact, event: Envelope) -> None:
        case = self.case
        report = event.case.report
        if fact.order_key > (case.get("envelope_key") or ""):
            found = event.case.category
            case["envelope_key"] = fact.order_key
            case["host"] = report.host
            case["reported_category"] = str(report.category)
            case["category"] = str(found.category if found and found.category else report.category)
        _earliest(case, "reported_at", iso(report.submitted_at))
        _earliest(case, "received_at", iso(report.received_at))
        if event.outcome == Outcome.terminated:
            self._status(fact, "closed", event.reason)
            return
        if event.stage == "received":
            self._status(fact, "received", None)
        elif event.stage in _CHECKING:
            self._status(fact, "checking", None)
        if event.stage == "url-verify":
            _earliest(case, "verified_at", iso(event.occurred_at))
        if event.stage == "categorize":
            self._review(fact, waiting=event.outcome == Outcome.review)
        if event.stage == "dispatch":
            _earliest(case, "dispatched_at", iso(event.occurred_at))
            routing = event.case.routing
            kinds = sorted({r.split(":", 1)[0] for r in routing.recipients}) if routing else []
            case["forwarded_to"] = ",".join(kinds)
            self._status(fact, "forwarded", None)

    def _status(self, fact: Fact, status: str, reason: str | None) -> None:
        """The latest status by the case's order; a closed case keeps its reason code."""
        if fact.order_key > (self.case.get("status_key") or ""):
            self.case.update(status=status, status_key=fact.order_key)
            self.case.update(status_at=iso(fact.at), status_reason=reason)

    def _review(self, fact: Fact, *, waiting: bool) -> None:
        if fact.order_key > (self.case.get("review_key") or ""):
            self.case["review_key"] = fact.order_key
            self.case["review_since"] = iso(fact.at) if waiting else None

    def _notice(self, fact: Fact, notice: Notice) -> None:
        if notice.kind != "blocking_request":
            return
        self.registry.setdefault(
            notice.idempotency_key,
            {
                "entry_id": notice.idempotency_key,
                "case_id": notice.case_id,
                "resource": notice.url or notice.host,
                "domain": notice.host,
                "category": str(notice.category),
                "legal_basis": notice.basis,
                "authority": notice.recipient.name,
                "decided_at": iso(notice.issued_at),
                "status": "requested",
                "status_key": fact.order_key,
                "appeal_outcome": None,
                "appeal_reason": None,
                "appeal_decided_at": None,
            },
        )

    def _receipt(self, fact: Fact, receipt: DeliveryReceipt) -> None:
        if receipt.status in ("delivered", "manual"):
            _earliest(self.case, "delivered_at", iso(receipt.at))
        if receipt.status == "confirmed":
            _earliest(self.case, "confirmed_at", iso(receipt.at))
            self._entry_status(receipt.idempotency_key, fact, "restricted")

    def _appeal(self, fact: Fact, appeal: Appeal) -> None:
        self.appeals.setdefault(
            appeal.appeal_id,
            {
                "appeal_id": appeal.appeal_id,
                "entry_id": appeal.entry_id,
                "case_id": appeal.case_id,
                "submitted_at": iso(appeal.submitted_at),
                "payload": fact.payload,
                "outcome": None,
            },
        )
        self._entry_status(appeal.entry_id, fact, "under_appeal")

    def _appeal_decision(self, fact: Fact, decision: AppealDecision) -> None:
        appeal = self.appeals.get(decision.appeal_id)
        if appeal is not None:
            appeal["outcome"] = decision.outcome
        entry = self.registry.get(decision.entry_id)
        if entry is not None:
            entry.update(
                appeal_outcome=decision.outcome,
                appeal_reason=decision.reason,
                appeal_decided_at=iso(decision.decided_at),
            )
        self._entry_status(decision.entry_id, fact, decision.outcome)

    def _entry_status(self, entry_id: str, fact: Fact, status: str) -> None:
        entry = self.registry.get(entry_id)
        if entry is not None and fact.order_key > entry["status_key"]:
            entry.update(status=status, status_key=fact.order_key)


def _earliest(row: Row, column: str, value: str) -> None:
    current = row.get(column)
    if current is None or value < current:
        row[column] = value
