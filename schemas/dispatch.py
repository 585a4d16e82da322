"""Notices: what the dispatch stage decides to send to whom, and what delivery made of it.

A notice is identified by its idempotency key (case id, recipient, notice kind): however often a
case is replayed or a worker restarted, one key is delivered at most once, and every send carries
the key so a recipient can drop the rare repeat of a crash between sending and recording.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from schemas.jurisdiction import Recipient
from schemas.report import Category

NoticeKind = Literal[
    "report",  # to a partner hotline: a report to assess under its own law
    "takedown_request",  # to whoever can remove the content
    "forward_request",  # to a CDN: pass the notice to the origin host
    "criminal_referral",  # to law enforcement: signs of a crime
    "administrative_referral",  # to an authority: signs of an offence
    "blocking_request",  # to the blocking authority: restrict access
]


class EvidenceRef(BaseModel):
    """Where the evidence is, by hash: never the content itself."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["content", "evidence", "screenshot"]
    sha256: str
    mime: str | None = None


class Notice(BaseModel):
    """One message to one recipient, on `hotline.notices`, keyed by case id."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"$id": "https://hotline.example/schemas/notice.json"}
    )

    idempotency_key: str = Field(description="Hash of (case id, recipient, notice kind).")
    case_id: str
    kind: NoticeKind
    recipient: Recipient
    rule: str = Field(description="The routing rule that produced it.")
    basis: str = Field(description="Its legal or policy basis, in words.")
    category: Category
    url: str | None = Field(description="The content's URL; None where it may not be given.")
    host: str
    evidence: list[EvidenceRef] = Field(default_factory=list)
    issued_at: AwareDatetime
    not_before: AwareDatetime | None = Field(
        default=None, description="Held until then (a police hold before a csam takedown)."
    )
    deadline: AwareDatetime
    language: Literal["kk", "ru", "en"]
    subject: str
    body: str


class RoutingDecision(BaseModel):
    """What the dispatch stage decided for the case: the notices, by which rules."""

    model_config = ConfigDict(extra="forbid")

    decided_at: AwareDatetime
    rules: list[str] = Field(description="Every routing rule that applied.")
    ruleset_version: str
    notices: list[str] = Field(description="Idempotency keys of the notices, in sending order.")
    recipients: list[str] = Field(description="`kind: name` of each notice's recipient.")
    unrouted: list[str] = Field(
        default_factory=list, description="Notices a rule asked for but no recipient was found."
    )


DeliveryStatus = Literal["delivered", "held", "manual", "failed", "confirmed"]


class DeliveryReceipt(BaseModel):
    """What became of a notice, on `hotline.deliveries`, keyed by idempotency key."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"$id": "https://hotline.example/schemas/delivery-receipt.json"},
    )

    idempotency_key: str
    case_id: str
    kind: NoticeKind
    recipient: str = Field(description="`kind: address` of the recipient.")
    channel: Literal["email", "webhook", "form"]
    status: DeliveryStatus
    at: AwareDatetime
    attempts: int = Field(ge=0)
    deadline: AwareDatetime
    not_before: AwareDatetime | None = None
    detail: str = Field(default="", description="The server's answer, or why it failed.")
    by: str | None = Field(default=None, description="Who confirmed, for `confirmed`.")
    notice: Notice | None = Field(
        default=None, description="For `held`: the notice, to send when its hold ends."
    )
