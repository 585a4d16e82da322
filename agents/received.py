"""received: turn an intake report into a case, or reject it with a reason.

Validates the report, normalises its URL, derives the case id and the reporter's status token,
moves the reporter's contact into the ledger, and links repeat reports of one URL (within the
duplicate window) to the first case. A report of a host whose partition differs from the one it
arrived on first moves to that partition (`hotline.intake.rekeyed`), so the duplicate index of a
URL lives in one place however intake services key their messages.
"""

from __future__ import annotations

import base64
import ipaddress
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import faust
import idna
import orjson
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from pipeline.config import Settings
from pipeline.envelopes import stage_envelope
from pipeline.ids import (
    case_id_for,
    causation_for_intake,
    event_id_for,
    partition_for_key,
    status_token_for,
    token_sha256,
)
from pipeline.runner import (
    Handler,
    Inbound,
    Outbound,
    StageSpec,
    table_update,
)
from pipeline.topics import (
    INTAKE,
    INTAKE_REKEYED,
    LEDGER_CONTACTS,
    RECEIVED,
    REJECTED,
    load_topics,
)
from pipeline.urls import normalise_escapes, remove_dot_segments
from schemas import (
    CaseReport,
    CaseSnapshot,
    Category,
    Envelope,
    FieldProblem,
    LedgerContact,
    Outcome,
    Rejection,
    RejectionReason,
    Report,
    SourceRef,
    StageName,
)
from schemas.report import MAX_REPORT_BYTES, MAX_URL_LENGTH

STAGE: StageName = "received"
INPUTS = (INTAKE, INTAKE_REKEYED)
OUTPUTS = (RECEIVED, REJECTED, INTAKE_REKEYED, LEDGER_CONTACTS)
# Carries the first intake coordinates of a rekeyed report: "partition:offset:timestamp_ms".
SOURCE_HEADER = "hotline-intake-source"
_CASES_REMEMBERED = 1000  # case ids kept per URL to recognise a replayed report


# ---------------------------------------------------------------- pure decision


@dataclass(frozen=True)
class NormalisedUrl:
    url: str
    host: str


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


class UrlProblem(ValueError):
    def __init__(self, reason: RejectionReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


_DEFAULT_PORTS = {"http": 80, "https": 443}
_ASCII_LABEL = re.compile(r"[a-z0-9_-]{1,63}")
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")


def normalise_url(text: str) -> NormalisedUrl:
    """Lower-case scheme and host, IDN to punycode, no default port, no fragment, no userinfo,
    percent-encoding made canonical and dot segments resolved in the path (pipeline/urls.py).

    Otherwise path and query are kept as given: their case and order are the site's to interpret.
    """
    if len(text) > MAX_URL_LENGTH:
        raise UrlProblem(
            RejectionReason.url_too_long, f"The URL is longer than {MAX_URL_LENGTH} characters."
        )
    candidate = text.strip()
    if not candidate:
        raise UrlProblem(RejectionReason.missing_url, "The report has no URL.")
    if _SPACE_OR_CONTROL.search(candidate):
        raise UrlProblem(
            RejectionReason.url_invalid, "The URL contains spaces or control characters."
        )
    try:
        parts = urlsplit(candidate)
        port = parts.port
    except ValueError as error:
        raise UrlProblem(RejectionReason.url_invalid, f"The URL cannot be read: {error}.") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        shown = f"{scheme}:" if scheme else "a link without http:// or https://"
        raise UrlProblem(
            RejectionReason.url_scheme_not_allowed,
            f"Only http and https links can be checked, not {shown}.",
        )
    host = ascii_host(parts.hostname or "")
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    path = remove_dot_segments(normalise_escapes(parts.path or "/"))
    url = urlunsplit((scheme, netloc, path, normalise_escapes(parts.query), ""))
    if len(url) > MAX_URL_LENGTH:
        raise UrlProblem(
            RejectionReason.url_too_long,
            f"The URL is longer than {MAX_URL_LENGTH} characters once normalised.",
        )
    return NormalisedUrl(url=url, host=host)


def ascii_host(hostname: str) -> str:
    host = hostname.rstrip(".").lower()
    if not host:
        raise UrlProblem(RejectionReason.url_invalid, "The URL has no host name.")
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host).compressed
        except ValueError:
            raise UrlProblem(
                RejectionReason.url_invalid, "The URL has a malformed IPv6 address."
            ) from None
    if host.isascii():
        # Accept what resolvers accept (underscores, edge hyphens exist in the wild); IDNA's
        # stricter rules would reject real sites.
        if len(host) > 253 or not all(_ASCII_LABEL.fullmatch(label) for label in host.split(".")):
            raise UrlProblem(RejectionReason.url_invalid, f"The host name {host!r} is not valid.")
        return host
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError) as error:
        raise UrlProblem(
            RejectionReason.url_invalid, f"The host name {host!r} is not valid: {error}."
        ) from None


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
    submission_id = None
    if len(raw) <= MAX_REPORT_BYTES:
        try:
            document = orjson.loads(raw)
        except orjson.JSONDecodeError:
            document = None
        if isinstance(document, dict):
            candidate = document.get("submission_id")
            if isinstance(candidate, str) and 0 < len(candidate) <= 128:
                submission_id = candidate
    return causation_for_intake(submission_id, source.partition, source.offset)


def admit(raw: bytes, source: SourceRef) -> Admitted | Refused:
    """Validate one intake message and derive its case; `source` is its first intake place."""
    causation_id = intake_causation(raw, source)
    if len(raw) > MAX_REPORT_BYTES:
        return _refused_whole(
            causation_id,
            RejectionReason.payload_too_large,
            f"The report is {len(raw)} bytes; at most {MAX_REPORT_BYTES} are accepted.",
        )
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return _refused_whole(
            causation_id, RejectionReason.invalid_utf8, f"The report is not valid UTF-8: {error}."
        )
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        return _refused_whole(
            causation_id, RejectionReason.malformed_json, f"The report is not valid JSON: {error}."
        )
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
        report = Report.model_validate(document)
    except ValidationError as error:
        problems.extend(
            p
            for p in map(_problem_from_pydantic, error.errors(include_url=False))
            if not (p.field == "url" and problems)
        )
    if problems or url is None:
        return _refused(causation_id, problems)
    return Admitted(report, url, causation_id, case_id_for(causation_id))


class UrlIndexEntry(BaseModel):
    """What the duplicate index knows about one normalised URL."""

    first_case_id: str
    first_seen_ms: int
    count: int
    cases: list[str]


@dataclass(frozen=True)
class RepeatMark:
    duplicate_of: str | None
    report_number: int


def register_report(
    entry: UrlIndexEntry | None, case_id: str, at_ms: int, window_ms: int
) -> tuple[UrlIndexEntry, RepeatMark]:
    """Count a report of a URL; the same case registered again (a replay) counts once."""
    if entry is not None and case_id in entry.cases:
        number = entry.cases.index(case_id) + 1
        first = None if case_id == entry.first_case_id else entry.first_case_id
        return entry, RepeatMark(first, number)
    if entry is None or at_ms - entry.first_seen_ms > window_ms:
        return UrlIndexEntry(
            first_case_id=case_id, first_seen_ms=at_ms, count=1, cases=[case_id]
        ), RepeatMark(None, 1)
    cases = entry.cases if len(entry.cases) >= _CASES_REMEMBERED else [*entry.cases, case_id]
    updated = entry.model_copy(update={"count": entry.count + 1, "cases": cases})
    return updated, RepeatMark(entry.first_case_id, updated.count)


def case_envelope(admitted: Admitted, mark: RepeatMark, received_at: datetime) -> Envelope:
    report = admitted.report
    return stage_envelope(
        admitted.case_id,
        STAGE,
        admitted.causation_id,
        Outcome.continue_,
        "duplicate" if mark.duplicate_of else None,
        CaseSnapshot(
            report=CaseReport(
                url=admitted.url.url,
                reported_url=report.url,
                host=admitted.url.host,
                category=report.category,
                description=report.description,
                language=report.language,
                channel=report.channel,
                submitted_at=report.submitted_at,
                received_at=received_at,
                submission_id=report.submission_id,
                has_contact=report.contact is not None,
                duplicate_of=mark.duplicate_of,
                report_number=mark.report_number,
            )
        ),
    )


def ledger_record(admitted: Admitted, token_secret: str) -> LedgerContact:
    token = status_token_for(admitted.case_id, token_secret)
    return LedgerContact(
        case_id=admitted.case_id,
        submission_id=admitted.report.submission_id,
        recorded_at=datetime.now(UTC),
        contact=admitted.report.contact,
        status_token_sha256=token_sha256(token),
    )


def redact_contact(raw: bytes) -> tuple[bytes, bool]:
    """The original bytes with a `contact` member blanked: it is the reporter's personal data."""
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw, False
    if isinstance(document, dict) and "contact" in document:
        document["contact"] = "[redacted]"
        return orjson.dumps(document), True
    return raw, False


def rejection(refused: Refused, raw: bytes, source: SourceRef, cap: int) -> Rejection:
    kept, redacted = redact_contact(raw)
    return Rejection(
        event_id=event_id_for("-", STAGE, refused.causation_id),
        causation_id=refused.causation_id,
        rejected_at=datetime.now(UTC),
        reason=refused.reason,
        message=refused.message,
        problems=refused.problems,
        source=source,
        original_b64=base64.b64encode(kept[:cap]).decode(),
        original_size=len(raw),
        original_truncated=len(kept) > cap,
        contact_redacted=redacted,
    )


def first_intake_source(inbound: Inbound) -> SourceRef:
    """Where the report first entered: a rekeyed copy carries it in a header."""
    header = inbound.headers.get(SOURCE_HEADER)
    if inbound.source.topic == INTAKE_REKEYED and header:
        try:
            partition, offset, timestamp_ms = (int(x) for x in header.decode().split(":"))
            return SourceRef(
                topic=INTAKE, partition=partition, offset=offset, timestamp_ms=timestamp_ms
            )
        except ValueError:
            pass
    return inbound.source


def _source_header(source: SourceRef) -> bytes:
    return f"{source.partition}:{source.offset}:{source.timestamp_ms}".encode()


# ---------------------------------------------------------------- agent wiring


def build(app: faust.App, settings: Settings) -> Handler:
    partitions = load_topics(settings.topics_file)[INTAKE].partitions
    url_index = app.Table("url-index", default=None, partitions=partitions)
    window_ms = int(settings.duplicate_window_hours * 3_600_000)
    secret = settings.token_secret.get_secret_value()
    cap = settings.rejected_bytes_cap

    async def handle(inbound: Inbound) -> list[Outbound]:
        source = first_intake_source(inbound)
        decision = admit(inbound.value, source)
        if isinstance(decision, Refused):
            record = rejection(decision, inbound.value, source, cap)
            return [Outbound(REJECTED, record.event_id.encode(), record.model_dump_json().encode())]
        host_key = decision.url.host.encode()
        if partition_for_key(host_key, partitions) != inbound.source.partition:
            return [
                Outbound(
                    INTAKE_REKEYED,
                    host_key,
                    inbound.value,
                    headers={SOURCE_HEADER: _source_header(source)},
                )
            ]
        outputs: list[Outbound] = []
        stored = url_index.get(decision.url.url)
        entry = UrlIndexEntry.model_validate(stored) if stored else None
        updated, mark = register_report(entry, decision.case_id, source.timestamp_ms, window_ms)
        if updated is not entry:
            partition = inbound.source.partition
            outputs.append(
                table_update(url_index, partition, decision.url.url, updated.model_dump())
            )
        case_key = decision.case_id.encode()
        if decision.report.contact is not None:
            contact = ledger_record(decision, secret).model_dump_json().encode()
            outputs.append(Outbound(LEDGER_CONTACTS, case_key, contact))
        received_at = datetime.fromtimestamp(source.timestamp_ms / 1000, UTC)
        envelope = case_envelope(decision, mark, received_at)
        outputs.append(
            Outbound(
                RECEIVED,
                case_key,
                envelope.model_dump_json().encode(),
                case_id=envelope.case_id,
                event_id=envelope.event_id,
            )
        )
        return outputs

    return handle


SPEC = StageSpec(
    name=STAGE,
    inputs=INPUTS,
    build=build,
    identify=lambda inbound: intake_causation(inbound.value, first_intake_source(inbound)),
    redact=lambda raw: redact_contact(raw)[0],
)
