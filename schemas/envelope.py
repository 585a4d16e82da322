"""The stage envelope: one model for every stage topic, carrying the case snapshot."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from schemas.report import Category, Channel

StageName = Literal[
    "received", "url-verify", "content-check", "categorize", "jurisdiction", "dispatch"
]

SCHEMA_VERSION = 1


class Outcome(StrEnum):
    continue_ = "continue"
    terminated = "terminated"
    review = "review"
    rejected = "rejected"


class Producer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    service: str
    version: str


class CaseReport(BaseModel):
    """The report as the case carries it: normalised, and without the reporter's contact."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        description="Normalised URL: lower-case scheme and host, punycode, no fragment."
    )
    reported_url: str = Field(description="The URL exactly as the reporter gave it.")
    host: str
    category: Category
    description: str
    language: str | None
    channel: Channel
    submitted_at: AwareDatetime
    received_at: AwareDatetime = Field(description="When the intake message reached the broker.")
    submission_id: str | None
    has_contact: bool = Field(description="The ledger holds contact data for this case.")
    duplicate_of: str | None = Field(
        description="The first case of the same URL within the duplicate window, if any."
    )
    report_number: int = Field(
        ge=1, description="How many times this URL was reported in the window, this one included."
    )


class RedirectHop(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str
    status: int
    location: str | None = None


class UrlFacts(BaseModel):
    """What the url-verify stage found out about the link: does it resolve, does it answer."""

    model_config = ConfigDict(extra="forbid")

    checked_at: AwareDatetime
    host: str
    addresses: list[str] = Field(description="A and AAAA answers for the host, in order.")
    cname_chain: list[str] = Field(description="CNAME names followed from the host, in order.")
    final_url: str | None = Field(description="Where the redirects ended; None if unreachable.")
    status: int | None = Field(description="HTTP status of the final answer.")
    method: Literal["HEAD", "GET"] | None = None
    redirects: list[RedirectHop] = Field(default_factory=list)
    content_type: str | None = None
    attempts: int = Field(ge=1, description="Tries made, transient failures retried.")
    dns_ms: float | None = None
    http_ms: float | None = None
    error: str | None = Field(default=None, description="Why the link could not be checked.")


class CaseSnapshot(BaseModel):
    """Everything learned about the case so far; later stages add their facts here."""

    model_config = ConfigDict(extra="forbid")

    report: CaseReport
    url: UrlFacts | None = None


class Envelope(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"$id": "https://hotline.example/schemas/envelope.json"}
    )

    event_id: str = Field(description="Deterministic from (case_id, stage, causation_id).")
    case_id: str
    stage: StageName
    occurred_at: AwareDatetime
    schema_version: int = SCHEMA_VERSION
    causation_id: str = Field(description="Id of the input this event was made from.")
    producer: Producer
    outcome: Outcome
    reason: str | None = None
    case: CaseSnapshot
