"""The stage envelope: one model for every stage topic, carrying the case snapshot."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from schemas.dispatch import RoutingDecision
from schemas.jurisdiction import JurisdictionFacts
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


HashSignal = Literal["sha256", "md5", "pdq"]


class HashMatch(BaseModel):
    """The content (or something the page loads) is in a known-content hash bank."""

    model_config = ConfigDict(extra="forbid")

    bank: str
    category: Category = Field(description="The category the bank holds.")
    signal: HashSignal
    distance: int = Field(ge=0, description="Hamming distance for pdq; 0 for exact hashes.")
    url: str = Field(description="Where the matching content was fetched from.")


class StoredObject(BaseModel):
    """Bytes kept in the content-addressed evidence store, found again by their SHA-256."""

    model_config = ConfigDict(extra="forbid")

    sha256: str
    size: int = Field(ge=0)
    mime: str


class ContentFacts(BaseModel):
    """What the content-check stage found at the link: what it is, its hashes, what it says.

    For a case reported as csam, or matching a csam hash bank, only hashes and metadata are
    recorded: no title, text, evidence or screenshot (`withheld` says so).
    """

    model_config = ConfigDict(extra="forbid")

    checked_at: AwareDatetime
    url: str = Field(description="The URL the content was fetched from, after redirects.")
    status: int | None = Field(description="HTTP status of the fetch.")
    declared_type: str | None = Field(description="Media type the server declared.")
    mime: str | None = Field(description="Media type found from the bytes themselves.")
    size: int = Field(ge=0, description="Bytes read (at most the configured cap).")
    truncated: bool = Field(description="The content went on past the cap; hashes cover the cap.")
    sha256: str | None = None
    md5: str | None = None
    pdq: str | None = Field(default=None, description="PDQ perceptual hash of an image, hex.")
    pdq_quality: int | None = None
    title: str | None = None
    text: str | None = Field(default=None, description="Visible text, script and style removed.")
    text_source: Literal["html", "rendered"] | None = Field(
        default=None, description="Parsed from the HTML, or read from the page as rendered."
    )
    language: str | None = Field(default=None, description="ISO 639-1 code of the text.")
    language_score: float | None = None
    hash_matches: list[HashMatch] = Field(default_factory=list)
    evidence: StoredObject | None = Field(default=None, description="The content as fetched.")
    screenshot: StoredObject | None = Field(default=None, description="PNG of the page.")
    screenshot_note: str | None = Field(
        default=None, description="Why there is no screenshot, when there is none."
    )
    withheld: str | None = Field(
        default=None, description="Why content, text and screenshot are not kept."
    )
    attempts: int = Field(ge=1)
    fetch_ms: float | None = None
    error: str | None = Field(default=None, description="Why the content could not be checked.")


class Verdict(StrEnum):
    """What the categorize stage (or an analyst) says of the reporter's category."""

    confirmed = "confirmed"  # the content shows signs of the reported category
    corrected = "corrected"  # it shows signs of another category: the case goes on as that
    not_illegal = "not_illegal"  # no sign of illegal content: the case ends
    needs_review = "needs_review"  # a person decides


class RuleHit(BaseModel):
    """A rule that moved a category's score, and what in the evidence it matched."""

    model_config = ConfigDict(extra="forbid")

    rule: str = Field(description="Rule id, `<category>.<rule>` or `<exclusion>.<rule>`.")
    category: Category | None = Field(description="The category it scores; None: an exclusion.")
    weight: float = Field(description="What it added to the score (negative: an exclusion).")
    matched: list[str] = Field(default_factory=list, description="Terms as found, at most 5.")


class CategoryDecision(BaseModel):
    """The categorize stage's finding, and an analyst's decision when a person decided."""

    model_config = ConfigDict(extra="forbid")

    decided_at: AwareDatetime
    verdict: Verdict
    reported: Category = Field(description="The reporter's category.")
    category: Category | None = Field(description="The category the case goes on as.")
    suggested: Category | None = Field(
        default=None, description="The best-scoring category, for a person deciding."
    )
    confidence: float = Field(ge=0, le=1)
    scores: dict[str, float] = Field(default_factory=dict, description="Per category, 0 to 1.")
    rules: list[RuleHit] = Field(default_factory=list)
    ruleset_version: str
    evidence: list[Literal["hash_bank", "text", "title", "url"]] = Field(default_factory=list)
    why: str = Field(description="The decision in a sentence an analyst reads.")
    reviewer: str | None = Field(default=None, description="Who decided, when a person did.")
    note: str | None = None


class CaseSnapshot(BaseModel):
    """Everything learned about the case so far; later stages add their facts here."""

    model_config = ConfigDict(extra="forbid")

    report: CaseReport
    url: UrlFacts | None = None
    content: ContentFacts | None = None
    category: CategoryDecision | None = None
    jurisdiction: JurisdictionFacts | None = None
    routing: RoutingDecision | None = None


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
