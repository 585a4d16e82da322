"""received: turn an intake report into a case, or reject it with a reason.

Validates the report (pipeline/intake.py, the same code intake services' tools use), normalises
its URL, derives the case id and the reporter's status token, moves the reporter's contact into
the ledger, and links repeat reports of one URL (within the duplicate window) to the first case.
A report of a host whose partition differs from the one it arrived on first moves to that
partition (`hotline.intake.rekeyed`, contact removed), so the duplicate index of a URL lives in
one place however intake services key their messages.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from pipeline.intake import Admitted, Refused, admit, intake_causation, redact_contact
from pipeline.runtime.envelopes import envelope_output, stage_envelope
from pipeline.runtime.ids import event_id_for, partition_for_key, status_token_for, token_sha256
from pipeline.runtime.stage import Handler, Inbound, Outbound, StageContext, StageSpec
from pipeline.runtime.topics import INTAKE, LEDGER_CONTACTS, REJECTED, load_topics
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
INTAKE_REKEYED = "hotline.intake.rekeyed"
RECEIVED = "hotline.received"
INPUTS = (INTAKE, INTAKE_REKEYED)
OUTPUTS = (RECEIVED, REJECTED, INTAKE_REKEYED, LEDGER_CONTACTS)
# Carries the first intake coordinates of a rekeyed report: "partition:offset:timestamp_ms".
SOURCE_HEADER = "hotline-intake-source"
# Set on a rekeyed report whose contact went to the ledger at the first hop.
CONTACT_HEADER = "hotline-has-contact"
_CASES_REMEMBERED = 1000  # case ids kept per URL to recognise a replayed report
_LATEST_MS = 253_402_300_799_999  # 9999-12-31: a later timestamp is no time at all


class ReceivedOptions(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOTLINE_", extra="ignore")

    duplicate_window_hours: float = 72.0
    rejected_bytes_cap: int = 4096  # original bytes kept on a rejection record


# ---------------------------------------------------------------- pure decision


class UrlIndexEntry(BaseModel):
    """What the duplicate index knows about one normalised URL."""

    first_case_id: str
    first_seen_ms: int
    count: int
    # Case id → when it was received, in registration order: a report registered again (a
    # replay, a copy that came another way) gets the same case event as the first time.
    cases: dict[str, int] = Field(default_factory=dict)


@dataclass(frozen=True)
class RepeatMark:
    duplicate_of: str | None
    report_number: int
    received_ms: int


def register_report(
    entry: UrlIndexEntry | None, case_id: str, at_ms: int, window_ms: int
) -> tuple[UrlIndexEntry, RepeatMark]:
    """Count a report of a URL; the same case registered again counts once, as it was."""
    if entry is not None and case_id in entry.cases:
        number = list(entry.cases).index(case_id) + 1
        first = None if case_id == entry.first_case_id else entry.first_case_id
        return entry, RepeatMark(first, number, entry.cases[case_id])
    if entry is None or at_ms - entry.first_seen_ms > window_ms:
        fresh = UrlIndexEntry(
            first_case_id=case_id, first_seen_ms=at_ms, count=1, cases={case_id: at_ms}
        )
        return fresh, RepeatMark(None, 1, at_ms)
    cases = entry.cases
    if len(cases) < _CASES_REMEMBERED:
        cases = {**cases, case_id: at_ms}
    updated = entry.model_copy(update={"count": entry.count + 1, "cases": cases})
    return updated, RepeatMark(entry.first_case_id, updated.count, at_ms)


def case_envelope(admitted: Admitted, mark: RepeatMark, has_contact: bool) -> Envelope:
    report = admitted.report
    received_at = datetime.fromtimestamp(mark.received_ms / 1000, UTC)
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
                has_contact=has_contact,
                duplicate_of=mark.duplicate_of,
                report_number=mark.report_number,
            )
        ),
        occurred_at=received_at,  # the same event, to the byte, whenever it is made again
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


def _valid_ms(timestamp_ms: int) -> bool:
    return 0 <= timestamp_ms <= _LATEST_MS


def first_intake_source(inbound: Inbound) -> SourceRef:
    """Where the report first entered: a rekeyed copy carries it in a header. A header that
    does not read as one (it can only be forged) is ignored: the copy is its own source."""
    header = inbound.headers.get(SOURCE_HEADER)
    if inbound.source.topic == INTAKE_REKEYED and header:
        try:
            partition, offset, timestamp_ms = (int(x) for x in header.decode().split(":"))
        except (ValueError, UnicodeDecodeError):
            return inbound.source
        if partition >= 0 and offset >= 0 and _valid_ms(timestamp_ms):
            return SourceRef(
                topic=INTAKE, partition=partition, offset=offset, timestamp_ms=timestamp_ms
            )
    return inbound.source


def arrival_ms(source: SourceRef, now_ms: int) -> int:
    """When the report arrived: its intake timestamp, unless the producer set an impossible one."""
    return source.timestamp_ms if _valid_ms(source.timestamp_ms) else now_ms


def input_identity(inbound: Inbound) -> str:
    """An intake message's id for dropping redeliveries: its case and its exact bytes, so a
    corrected resend under the same submission id is judged again."""
    digest = hashlib.sha256(inbound.value).hexdigest()[:16]
    return f"{intake_causation(inbound.value, first_intake_source(inbound))}|{digest}"


def rekeyed_copy(admitted: Admitted, source: SourceRef, host_key: bytes) -> Outbound:
    """The report moved to its host's partition, without the reporter's contact: that went to
    the ledger at this hop, and no topic but the intake and the ledger may hold it."""
    headers = {SOURCE_HEADER: f"{source.partition}:{source.offset}:{source.timestamp_ms}".encode()}
    if admitted.report.contact is not None:
        headers[CONTACT_HEADER] = b"1"
    value = admitted.report.model_dump_json(exclude={"contact"}, exclude_none=True).encode()
    return Outbound(INTAKE_REKEYED, host_key, value, headers=headers)


# ---------------------------------------------------------------- agent wiring


def build(context: StageContext) -> Handler:
    settings = context.settings
    options = context.options(ReceivedOptions)
    partitions = load_topics(settings.topics_file)[INTAKE].partitions
    url_index = context.table("url-index", partitions)
    window_ms = int(options.duplicate_window_hours * 3_600_000)
    secret = settings.token_secret.get_secret_value()

    def contact_record(decision: Admitted) -> Outbound:
        contact = ledger_record(decision, secret).model_dump_json().encode()
        return Outbound(LEDGER_CONTACTS, decision.case_id.encode(), contact)

    async def handle(inbound: Inbound) -> list[Outbound]:
        source = first_intake_source(inbound)
        decision = admit(inbound.value, source)
        if isinstance(decision, Refused):
            record = rejection(decision, inbound.value, source, options.rejected_bytes_cap)
            return [Outbound(REJECTED, record.event_id.encode(), record.model_dump_json().encode())]
        outputs: list[Outbound] = []
        if decision.report.contact is not None:
            outputs.append(contact_record(decision))
        host_key = decision.url.host.encode()
        if partition_for_key(host_key, partitions) != inbound.source.partition:
            return [*outputs, rekeyed_copy(decision, source, host_key)]
        stored = url_index.get(decision.url.url)
        entry = UrlIndexEntry.model_validate(stored) if stored else None
        now_ms = int(datetime.now(UTC).timestamp() * 1000)
        at_ms = arrival_ms(source, now_ms)
        updated, mark = register_report(entry, decision.case_id, at_ms, window_ms)
        if updated is not entry:
            partition = inbound.source.partition
            outputs.append(url_index.update(partition, decision.url.url, updated.model_dump()))
        has_contact = decision.report.contact is not None or CONTACT_HEADER in inbound.headers
        outputs.append(envelope_output(RECEIVED, case_envelope(decision, mark, has_contact)))
        return outputs

    return handle


SPEC = StageSpec(
    name=STAGE,
    inputs=INPUTS,
    outputs=OUTPUTS,
    build=build,
    identify=input_identity,
    redact=lambda raw: redact_contact(raw)[0],
    options=ReceivedOptions,
)
