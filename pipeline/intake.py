"""Admission of an intake report: is it a report the hotline can take, and which case is it?

Shared by the `received` stage, which decides, and by everything that submits reports (the CLI,
the gateway), which check before they send: the same code, so they can never disagree.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass

import orjson
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from pipeline.lookups.urls import NormalisedUrl, UrlProblem, normalise_url
from pipeline.runtime.ids import case_id_for, causation_for_intake
from pipeline.runtime.topics import INTAKE
from schemas import Category, FieldProblem, RejectionReason, Report, SourceRef
from schemas.report import MAX_REPORT_BYTES, MAX_URL_LENGTH

# Where a report is judged before it is sent: nowhere yet. Such a report carries a submission id
# (or is refused), so its case id does not depend on the place it will land.
_BEFORE_SENDING = SourceRef(topic=INTAKE, partition=0, offset=0, timestamp_ms=0)


@dataclass(frozen=True)
class Admitted:
    report: Report
    url: NormalisedUrl
    causation_id: str
    case_id: str


@dataclass(frozen=True)
class Refused:
    causation_id: str
    reason: RejectionReason
    message: str
    problems: list[FieldProblem]


_REASON_ORDER = [
    RejectionReason.missing_url,
    RejectionReason.url_too_long,
    RejectionReason.url_scheme_not_allowed,
    RejectionReason.url_invalid,
    RejectionReason.unknown_category,
    RejectionReason.unknown_field,
    RejectionReason.missing_field,
    RejectionReason.invalid_field,
]


def _problem_from_pydantic(error: ErrorDetails) -> FieldProblem:
    field = ".".join(str(part) for part in error["loc"])
    kind = error["type"]
    message = error["msg"]
    if kind == "extra_forbidden":
        code = RejectionReason.unknown_field
        message = f"Unknown field {field!r}."
    elif field == "url":
        if kind == "missing":
            code, message = RejectionReason.missing_url, "The report has no URL."
        elif kind == "string_too_long":
            code = RejectionReason.url_too_long
            message = f"The URL is longer than {MAX_URL_LENGTH} characters."
        else:
            code, message = RejectionReason.url_invalid, f"The URL is not a string: {message}."
    elif field == "category" and kind == "enum":
        code = RejectionReason.unknown_category
        message = f"Unknown category; use one of: {', '.join(c.value for c in Category)}."
    elif kind == "missing":
        code, message = RejectionReason.missing_field, f"The field {field!r} is required."
    else:
        code, message = RejectionReason.invalid_field, f"The field {field!r} is invalid: {message}."
    return FieldProblem(field=field or "(report)", code=code.value, message=message)


def _refused(causation_id: str, problems: list[FieldProblem]) -> Refused:
    first = min(problems, key=lambda p: _REASON_ORDER.index(RejectionReason(p.code)))
    return Refused(causation_id, RejectionReason(first.code), first.message, problems)


def _refused_whole(causation_id: str, reason: RejectionReason, message: str) -> Refused:
    return Refused(
        causation_id,
        reason,
        message,
        [FieldProblem(field="(report)", code=reason.value, message=message)],
    )


def intake_causation(raw: bytes, source: SourceRef) -> str:
    """The id of an intake input: its submission id when readable, else its coordinates."""
    document = None
    if len(raw) <= MAX_REPORT_BYTES:
        with contextlib.suppress(orjson.JSONDecodeError):
            document = orjson.loads(raw)
    return _causation(document, source)


def _causation(document: object, source: SourceRef) -> str:
    submission_id = None
    if isinstance(document, dict):
        candidate = document.get("submission_id")
        if isinstance(candidate, str) and 0 < len(candidate) <= 128:
            submission_id = candidate
    return causation_for_intake(submission_id, source.partition, source.offset)


def admit(raw: bytes, source: SourceRef) -> Admitted | Refused:
    """Validate one intake message and derive its case; `source` is its first intake place."""
    if len(raw) > MAX_REPORT_BYTES:
        return _refused_whole(
            _causation(None, source),
            RejectionReason.payload_too_large,
            f"The report is {len(raw)} bytes; at most {MAX_REPORT_BYTES} are accepted.",
        )
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return _refused_whole(
            _causation(None, source),
            RejectionReason.invalid_utf8,
            f"The report is not valid UTF-8: {error}.",
        )
    try:
        document = orjson.loads(raw)  # once: the causation and the checks below read it
    except orjson.JSONDecodeError as error:
        return _refused_whole(
            _causation(None, source),
            RejectionReason.malformed_json,
            f"The report is not valid JSON: {error}.",
        )
    causation_id = _causation(document, source)
    if not isinstance(document, dict):
        return _refused_whole(
            causation_id, RejectionReason.not_an_object, "The report must be a JSON object."
        )
    problems: list[FieldProblem] = []
    url: NormalisedUrl | None = None
    if isinstance(document.get("url"), str):
        try:
            url = normalise_url(document["url"])
        except UrlProblem as problem:
            problems.append(FieldProblem(field="url", code=problem.reason, message=problem.message))
    try:
        # Strict, from the JSON itself: a number is no time, `true` no string.
        report = Report.model_validate_json(raw, strict=True)
    except ValidationError as error:
        problems.extend(
            p
            for p in map(_problem_from_pydantic, error.errors(include_url=False))
            if not (p.field == "url" and problems)
        )
    if problems or url is None:
        return _refused(causation_id, problems)
    return Admitted(report, url, causation_id, case_id_for(causation_id))


def redact_contact(raw: bytes) -> tuple[bytes, bool]:
    """The original bytes with a `contact` member blanked: it is the reporter's personal data.

    Bytes that do not parse cannot be redacted member by member: they are cut where a contact
    could begin, so what is kept is only what comes before it.
    """
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError:
        start = _contact_start(raw)
        return (raw, False) if start is None else (raw[:start], True)
    if isinstance(document, dict) and "contact" in document:
        document["contact"] = "[redacted]"
        return orjson.dumps(document), True
    return raw, False


def _contact_start(raw: bytes) -> int | None:
    """Where a contact member may begin in bytes that do not parse: the word itself, or the
    first \\u escape, since a key can be spelled with escapes."""
    lowered = raw.lower()
    found = [i for i in (lowered.find(b"contact"), raw.find(b"\\u")) if i >= 0]
    return min(found) if found else None


def with_submission_id(raw: bytes, prefix: str) -> bytes:
    """The report with a submission id of its sender's (`<prefix>-<random>`) when it has none.

    Its case id is then known before it is sent, whatever partition and offset it lands on, and
    a sender's retry of the same bytes is the same case. Bytes that are no JSON object are
    returned as they are: `admit` says what is wrong with them.
    """
    if len(raw) > MAX_REPORT_BYTES:
        return raw
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw
    if isinstance(document, dict) and not document.get("submission_id"):
        document["submission_id"] = f"{prefix}-{uuid.uuid4().hex}"
        return orjson.dumps(document)
    return raw


def prepare_submission(raw: bytes, prefix: str) -> tuple[bytes, Admitted | Refused]:
    """What a submitter sends to `hotline.intake` and the received stage's verdict on it.

    Shared by `hotline submit` and the gateway, so a report they accept is one the stage
    accepts, with the case id they promised. Send the bytes keyed by `intake_key`.
    """
    value = with_submission_id(raw, prefix)
    # With a submission id the causation (hence the case id) does not depend on the place.
    return value, admit(value, _BEFORE_SENDING)


def intake_key(admitted: Admitted) -> bytes:
    """The key of an intake message: the normalised URL's host, so the report reaches the
    partition holding its host's duplicate index without the extra rekeying hop."""
    return admitted.url.host.encode()
