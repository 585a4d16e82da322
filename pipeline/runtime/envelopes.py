"""Building a stage's output envelope from its input: same case, one more stage of facts."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

from pipeline.runtime.ids import event_id_for
from pipeline.runtime.runner import producer_identity
from pipeline.runtime.stage import Inbound, Outbound, PermanentError
from schemas import CaseSnapshot, Envelope, Outcome, StageName


def read_envelope(raw: bytes) -> Envelope:
    """The input event; one that is not a valid envelope can never be processed."""
    try:
        return Envelope.model_validate_json(raw)
    except ValueError as error:  # pydantic's ValidationError is a ValueError
        raise PermanentError(f"not a case envelope: {error}") from error


def stage_envelope(
    case_id: str,
    stage: StageName,
    causation_id: str,
    outcome: Outcome,
    reason: str | None,
    case: CaseSnapshot,
    occurred_at: datetime | None = None,
) -> Envelope:
    """What `stage` says about a case, its id derived from what caused it (DESIGN 2)."""
    return Envelope(
        event_id=event_id_for(case_id, stage, causation_id),
        case_id=case_id,
        stage=stage,
        occurred_at=occurred_at or datetime.now(UTC),
        causation_id=causation_id,
        producer=producer_identity(stage),
        outcome=outcome,
        reason=reason,
        case=case,
    )


def next_envelope(
    previous: Envelope,
    stage: StageName,
    outcome: Outcome,
    reason: str | None,
    case: CaseSnapshot,
) -> Envelope:
    """The stage's event made from the previous stage's."""
    return stage_envelope(previous.case_id, stage, previous.event_id, outcome, reason, case)


def envelope_output(topic: str, envelope: Envelope) -> Outbound:
    return Outbound(
        topic,
        envelope.case_id.encode(),
        envelope.model_dump_json().encode(),
        case_id=envelope.case_id,
        event_id=envelope.event_id,
    )


# Envelopes as pydantic writes them begin with their event id: read it without parsing the
# whole event (a few kilobytes) twice.
_LEAD = b'{"event_id":"'


def input_event_id(inbound: Inbound) -> str | None:
    """The input envelope's event id, to drop redeliveries; None when it has none."""
    raw = inbound.value
    if raw.startswith(_LEAD):
        end = raw.find(b'"', len(_LEAD))
        found = raw[len(_LEAD) : end]
        if end > 0 and b"\\" not in found:
            return found.decode("utf-8", "replace")
    try:
        document = orjson.loads(inbound.value)
    except orjson.JSONDecodeError:
        return None
    event_id = document.get("event_id") if isinstance(document, dict) else None
    return event_id if isinstance(event_id, str) else None
