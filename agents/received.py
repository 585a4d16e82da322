"""received: turn an intake report into a case, or reject it with a reason.

Validates the report, normalises its URL, derives the case id and the reporter's status token,
moves the reporter's contact into the ledger, and links repeat reports of one URL (within the
duplicate window) to the first case. A report of a host whose partition differs from the one it
arrived on first moves to that partition (`hotline.intake.rekeyed`), so the duplicate index of a
URL lives in one place however intake services key their messages.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime

import faust
from pydantic import BaseModel

from pipeline.config import Settings
from pipeline.intake import Admitted, Refused, admit, intake_causation, redact_contact
from pipeline.runtime.envelopes import stage_envelope
from pipeline.runtime.ids import (
    event_id_for,
    partition_for_key,
    status_token_for,
    token_sha256,
)
from pipeline.runtime.runner import (
    Handler,
    Inbound,
    Outbound,
    StageSpec,
    table_update,
)
from pipeline.runtime.topics import (
    INTAKE,
    INTAKE_REKEYED,
    LEDGER_CONTACTS,
    RECEIVED,
    REJECTED,
    load_topics,
)
from schemas import (
    CaseReport,
    CaseSnapshot,
    Envelope,
    LedgerContact,
    Outcome,
    Rejection,
    SourceRef,
    StageName,
)

STAGE: StageName = "received"
INPUTS = (INTAKE, INTAKE_REKEYED)
OUTPUTS = (RECEIVED, REJECTED, INTAKE_REKEYED, LEDGER_CONTACTS)
# Carries the first intake coordinates of a rekeyed report: "partition:offset:timestamp_ms".
SOURCE_HEADER = "hotline-intake-source"
_CASES_REMEMBERED = 1000  # case ids kept per URL to recognise a replayed report


# ---------------------------------------------------------------- pure decision


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
