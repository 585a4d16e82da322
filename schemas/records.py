"""Records that leave the case path: rejections, dead letters, ledger contact entries."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from schemas.report import Category, ReporterContact


class SourceRef(BaseModel):
    """Where a message was read: enough to find the original again."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    topic: str
    partition: int
    offset: int
    timestamp_ms: int


class RejectionReason(StrEnum):
    payload_too_large = "payload_too_large"
    invalid_utf8 = "invalid_utf8"
    malformed_json = "malformed_json"
    not_an_object = "not_an_object"
    missing_url = "missing_url"
    url_too_long = "url_too_long"
    url_scheme_not_allowed = "url_scheme_not_allowed"
    url_invalid = "url_invalid"
    unknown_category = "unknown_category"
    unknown_field = "unknown_field"
    missing_field = "missing_field"
    invalid_field = "invalid_field"


class FieldProblem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str
    code: str
    message: str


class Rejection(BaseModel):
    """A report the hotline could not accept, on `hotline.rejected`."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"$id": "https://hotline.example/schemas/rejection.json"}
    )

    event_id: str
    causation_id: str
    rejected_at: AwareDatetime
    reason: RejectionReason = Field(description="Machine-readable code of the first problem.")
    message: str = Field(description="What is wrong, for a person.")
    problems: list[FieldProblem] = Field(default_factory=list)
    source: SourceRef
    original_b64: str = Field(description="The original bytes, base64, capped.")
    original_size: int
    original_truncated: bool
    contact_redacted: bool = Field(
        description="A `contact` member was blanked out of the original: it is personal data."
    )


class DeadLetter(BaseModel):
    """A message a stage could not process, on `hotline.dlq.<stage>`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"$id": "https://hotline.example/schemas/dead-letter.json"},
    )

    stage: str
    failed_at: AwareDatetime
    error_type: str
    error: str
    attempts: int
    source: SourceRef
    key_b64: str | None
    original_b64: str
    # The original is capped (a dead letter must always fit the broker's message limit): its
    # full size, and whether what is kept is only its start.
    original_size: int
    original_truncated: bool


class LedgerContact(BaseModel):
    """The reporter's side of a case, kept only in the ledger's contact store."""

    model_config = ConfigDict(extra="forbid")

    case_id: str
    submission_id: str | None
    recorded_at: AwareDatetime
    contact: ReporterContact | None
    status_token_sha256: str = Field(description="Hash of the reporter's secret status token.")
    erased_at: AwareDatetime | None = Field(
        default=None,
        description="The reporter asked to be forgotten: the contact is gone from here on.",
    )


class ReviewDecision(BaseModel):
    """An analyst's decision on a case waiting in review, on `hotline.review-decisions`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"$id": "https://hotline.example/schemas/review-decision.json"},
    )

    decision_id: str = Field(min_length=1, max_length=128)
    case_id: str = Field(min_length=1, max_length=64)
    verdict: Literal["confirmed", "corrected", "not_illegal"]
    category: Category | None = Field(
        default=None, description="Required with `corrected`: the case goes on as this."
    )
    reviewer: str = Field(min_length=1, max_length=200)
    note: str = Field(default="", max_length=5000)
    decided_at: AwareDatetime


class ReviewReceipt(BaseModel):
    """The categorize stage's answer to a decision: taken, or refused and why."""

    model_config = ConfigDict(extra="forbid")

    decision_id: str
    case_id: str
    accepted: bool
    problem: Literal["unknown_case", "not_in_review", "already_decided", "invalid"] | None = None
    message: str
    decided_by: str | None = Field(default=None, description="Who decided first, if not this one.")
    answered_at: AwareDatetime
