"""The intake report: what an intake service (web form, app, partner feed) publishes."""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

# Limits published with the schema so intake services can check before they send.
MAX_REPORT_BYTES = 64 * 1024
MAX_URL_LENGTH = 2048


class Category(StrEnum):
    """What the reporter says the content is. The `categorize` stage may correct it."""

    terrorism = "terrorism"
    extremism = "extremism"
    hate = "hate"
    csam = "csam"
    grooming = "grooming"
    drugs = "drugs"
    violence = "violence"
    suicide = "suicide"
    cyberbullying = "cyberbullying"
    intimate_images = "intimate_images"
    sects = "sects"
    gambling = "gambling"
    financial_pyramid = "financial_pyramid"
    other = "other"


class Channel(StrEnum):
    web_form = "web_form"
    mobile_app = "mobile_app"
    partner_feed = "partner_feed"
    email = "email"
    phone = "phone"
    api = "api"


class ReporterContact(BaseModel):
    """Personal data of the reporter: kept in the case ledger only, never on a stage topic."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    phone: str | None = Field(default=None, max_length=40, pattern=r"^[0-9+()\-. ]{3,40}$")


class Report(BaseModel):
    """One public report of online content. Publish it as JSON on `hotline.intake`.

    Key the message by the URL's host name (lower-case); any key works, but reports of one host
    then reach the duplicate check without an extra hop.
    """

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"$id": "https://hotline.example/schemas/report.json"}
    )

    url: str = Field(description="The reported address, http or https.", max_length=MAX_URL_LENGTH)
    category: Category
    description: str = Field(
        default="", max_length=20_000, description="The topic or the reporter's own words."
    )
    language: str | None = Field(
        default=None,
        pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$",
        description="BCP 47 language tag of the description, e.g. kk, ru, en.",
    )
    contact: ReporterContact | None = Field(
        default=None, description="Optional; anonymous reports are normal."
    )
    channel: Channel
    submitted_at: AwareDatetime
    submission_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9._:\-]+$",
        description=(
            "The intake service's own id for this submission. Sending the same id again "
            "(a retry) yields the same case, not a new one."
        ),
    )
