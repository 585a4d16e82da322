"""The shapes of the gateway's own JSON answers and requests (the rest are in schemas/)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas import Category, FieldProblem, RejectionReason
from schemas.ledger import PendingAppeal, ReviewItem


class IntakeReceipt(BaseModel):
    case_id: str
    status_token: str = Field(description="The reporter's secret: give it to them, never log it.")
    status_url: str = Field(description="The reporter's status page, token included.")


class Refusal(BaseModel):
    """A report the received stage would reject, for the same reason code."""

    reason: RejectionReason = Field(description="The most important problem (hotline.rejected).")
    message: str
    problems: list[FieldProblem]


class Problem(BaseModel):
    detail: str


class AppealRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grounds: str = Field(min_length=1, max_length=5000, description="Why, in your own words.")


class AppealReceipt(BaseModel):
    appeal_id: str


class DecisionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    verdict: Literal["confirmed", "corrected", "not_illegal"]
    category: Category | None = Field(default=None, description="With `corrected`, and only so.")
    note: str = Field(default="", max_length=5000)


class DecisionReceipt(BaseModel):
    decision_id: str = Field(description="The categorize stage's receipt answers this id.")


class ReviewQueue(BaseModel):
    cases: list[ReviewItem] = Field(description="Cases waiting for an analyst, oldest first.")
    appeals: list[PendingAppeal] = Field(description="Appeals waiting for a decision.")


class Health(BaseModel):
    status: Literal["ok"] = "ok"
