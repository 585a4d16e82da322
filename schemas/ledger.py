"""The case ledger's records and what it shows: appeals, the public status, the registry, NTD.

Appeals travel on `hotline.appeals` (keyed by case id). Everything else here is read out of the
ledger by the gateway and the CLI; nothing here carries a reporter's personal data.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from schemas.envelope import Envelope
from schemas.report import Category

Role = Literal["intake", "reviewer", "operator", "auditor"]
ROLES: tuple[Role, ...] = ("intake", "reviewer", "operator", "auditor")

# What a reporter may learn: where the case is, never what is inside it.
PublicStage = Literal["received", "checking", "forwarded", "closed"]

RegistryStatus = Literal["requested", "restricted", "under_appeal", "upheld", "lifted"]
AppealOutcome = Literal["upheld", "lifted"]


class Appeal(BaseModel):
    """Someone contests a registry entry (a site owner, usually). On `hotline.appeals`."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"$id": "https://hotline.example/schemas/appeal.json"}
    )

    record: Literal["appeal"] = "appeal"
    appeal_id: str = Field(min_length=1, max_length=64)
    entry_id: str = Field(description="The registry entry contested.")
    case_id: str
    submitted_at: AwareDatetime
    grounds: str = Field(
        min_length=1, max_length=5000, description="Why, in the appellant's words."
    )


class AppealDecision(BaseModel):
    """A reviewer's answer to an appeal: the restriction upheld or lifted, and why."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"$id": "https://hotline.example/schemas/appeal-decision.json"},
    )

    record: Literal["appeal_decision"] = "appeal_decision"
    appeal_id: str
    entry_id: str
    case_id: str
    outcome: AppealOutcome
    reason: str = Field(min_length=1, max_length=5000)
    reviewer: str = Field(min_length=1, max_length=200)
    decided_at: AwareDatetime


class PublicStatus(BaseModel):
    """What the reporter sees with the case id and the status token: nothing internal."""

    model_config = ConfigDict(extra="forbid")

    case_id: str
    status: PublicStage
    since: AwareDatetime | None = Field(description="When the case reached this status.")
    reason: str | None = Field(default=None, description="For a closed case: why, in words.")
    reason_code: str | None = Field(
        default=None, description="The reason's code (not_illegal, not_found …), to translate."
    )
    forwarded_to: list[str] = Field(
        default_factory=list, description="Kinds of recipient notified (e.g. partner_hotline)."
    )


class RegistryEntry(BaseModel):
    """A resource under an access restriction or a blocking request, as the public sees it."""

    model_config = ConfigDict(extra="forbid")

    entry_id: str
    case_id: str
    resource: str = Field(description="The URL, or the domain where only that may be shown.")
    domain: str
    category: Category
    legal_basis: str
    authority: str = Field(description="Who decides the restriction (the blocking authority).")
    decided_at: AwareDatetime
    status: RegistryStatus
    appeal_outcome: AppealOutcome | None = None
    appeal_reason: str | None = None
    appeal_decided_at: AwareDatetime | None = None


class RegistryPage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entries: list[RegistryEntry]
    total: int = Field(description="Entries matching the filter (listed ones only).")
    offset: int
    limit: int
    withheld_csam: int = Field(description="Child-abuse entries: counted, never listed.")


class NtdFigure(BaseModel):
    """Median and 90th percentile of one interval, over the cases that reached its end."""

    model_config = ConfigDict(extra="forbid")

    cases: int
    median_s: float | None
    p90_s: float | None


class NtdRow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: str = Field(description="A category, or `all`.")
    to_verification: NtdFigure
    to_dispatch: NtdFigure
    to_delivery: NtdFigure
    to_confirmation: NtdFigure


class NtdReport(BaseModel):
    """Notice-and-takedown timing: from the report to each step, per category."""

    model_config = ConfigDict(extra="forbid")

    since: AwareDatetime | None
    rows: list[NtdRow]


LedgerKind = Literal[
    "envelope",
    "rejection",
    "review_decision",
    "review_receipt",
    "notice",
    "delivery_receipt",
    "appeal",
    "appeal_decision",
]


class LedgerEntry(BaseModel):
    """One event of a case's history, chained to the one before it by its hash."""

    model_config = ConfigDict(extra="forbid")

    case_id: str
    seq: int = Field(ge=1, description="Place in the case's history, from 1.")
    entry_id: str = Field(description="The event's own id: one entry per event, however replayed.")
    topic: str
    kind: LedgerKind
    at: AwareDatetime = Field(description="When it happened, as the event says.")
    stage: str | None = Field(description="The stage, for a stage event.")
    outcome: str | None = Field(description="continue, terminated, review, rejected; a status.")
    reason: str | None = None
    rule: str | None = Field(default=None, description="The deciding rule and rule-set version.")
    actor: str | None = Field(default=None, description="Who decided, for a human step.")
    summary: str = Field(description="One line for a timeline.")
    replay: str | None = Field(default=None, description="The replay it was made by, if any.")
    payload: dict[str, object] = Field(description="The event as it was on its topic.")
    prev_hash: str
    entry_hash: str


class ReviewItem(BaseModel):
    """A case waiting for an analyst, with the event that sent it to review."""

    model_config = ConfigDict(extra="forbid")

    case_id: str
    waiting_since: AwareDatetime
    envelope: Envelope


class PendingAppeal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    appeal: Appeal
    entry: RegistryEntry
