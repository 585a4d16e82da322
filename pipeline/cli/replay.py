"""`hotline case replay`: a case run again from one stage with today's rules and data.

The stages from the chosen one on run in-process (the stage harness, exactly as their workers
build them), fed the case's original input of that stage from the ledger; each stage's new
verdict is set beside the one the ledger holds. With `--execute` the input is published again
to the stage's topic as a new event of a replay (its own id, so no consumer drops it as a
redelivery, and producer `hotline-replay`): the running pipeline takes the case from there, and
its notices keep their idempotency keys, so none already delivered is sent again.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import orjson

from pipeline.cli.stages import STAGE_MODULES, stage_spec
from pipeline.config import Settings
from pipeline.ledger import views
from pipeline.ledger.store import Ledger
from pipeline.ledger.views import REPLAY_PRODUCER
from pipeline.runtime.harness import StageHarness
from pipeline.runtime.ids import event_id_for
from pipeline.runtime.kafka_io import kafka_producer
from pipeline.runtime.topics import REVIEW, TERMINATED
from schemas import Envelope, Outcome, Producer
from schemas.ledger import LedgerEntry

STAGES = list(STAGE_MODULES)
REPLAYABLE = STAGES[1:]  # the received stage's input is the intake report, contact and all


class ReplayError(ValueError):
    """The case cannot be replayed as asked (the message says why)."""


@dataclass(frozen=True)
class StageVerdicts:
    stage: str
    original: str
    replayed: str

    @property
    def changed(self) -> bool:
        return self.original != self.replayed


@dataclass
class Replay:
    case_id: str
    from_stage: str
    input_event: Envelope
    verdicts: list[StageVerdicts]
    notices: list[str]  # idempotency keys the replay's dispatch would send
    already_delivered: list[str]  # of those, the ones the ledger has a delivery for


def verdict(event: Envelope | None) -> str:
    """A stage's finding in a line: what a person compares."""
    if event is None:
        return "-"
    case = event.case
    text = str(event.outcome) + (f" ({event.reason})" if event.reason else "")
    if event.stage == "url-verify" and case.url is not None:
        text += f"; status {case.url.status}, {case.url.final_url}"
    elif event.stage == "content-check" and case.content is not None:
        found = case.content
        banks = ", ".join(sorted({m.bank for m in found.hash_matches}))
        text += f"; {found.mime}, sha256 {(found.sha256 or '-')[:12]}" + (
            f", banks {banks}" if banks else ""
        )
    elif event.stage == "categorize" and case.category is not None:
        decided = case.category
        text += f"; {decided.verdict} {decided.category or decided.suggested}"
        text += f" {decided.confidence:.2f} (rules {decided.ruleset_version})"
    elif event.stage == "jurisdiction" and case.jurisdiction is not None:
        where = case.jurisdiction
        text += f"; {where.jurisdiction} {where.country or '?'} by {where.rule}"
        text += f" (rules {where.ruleset_version})"
    elif event.stage == "dispatch" and case.routing is not None:
        routing = case.routing
        text += f"; {len(routing.notices)} notices by {', '.join(routing.rules)}"
        text += f" (rules {routing.ruleset_version})"
    return text


def _original_events(history: list[LedgerEntry]) -> dict[str, Envelope]:
    """The case's first event of each stage, as the ledger holds them."""
    found: dict[str, Envelope] = {}
    for entry in history:
        if entry.kind == "envelope" and entry.stage and entry.stage not in found:
            found[entry.stage] = Envelope.model_validate(entry.payload)
    return found


def _delivered(history: list[LedgerEntry]) -> set[str]:
    return {
        str(entry.payload.get("idempotency_key"))
        for entry in history
        if entry.kind == "delivery_receipt" and entry.outcome in ("delivered", "confirmed")
    }


async def replay_case(
    settings: Settings, ledger: Ledger, case_id: str, from_stage: str = "url-verify"
) -> Replay:
    if from_stage not in REPLAYABLE:
        raise ReplayError(
            f"a case replays from one of: {', '.join(REPLAYABLE)} (the received stage's input "
            "is the intake report, which the ledger does not keep whole)"
        )
    history = views.timeline(ledger, case_id)
    if not history:
        raise ReplayError(f"no case {case_id} in the ledger")
    originals = _original_events(history)
    before = STAGES[STAGES.index(from_stage) - 1]
    given = originals.get(before)
    if given is None or given.outcome != Outcome.continue_:
        raise ReplayError(f"{case_id} never reached {from_stage}: nothing to replay it from")
    verdicts: list[StageVerdicts] = []
    notices: list[str] = []
    current: Envelope | None = given
    for stage in STAGES[STAGES.index(from_stage) :]:
        made = await _run_stage(settings, stage, current) if current is not None else None
        verdicts.append(StageVerdicts(stage, verdict(originals.get(stage)), verdict(made)))
        if made is not None and made.case.routing is not None:
            notices = list(made.case.routing.notices)
        current = made if made is not None and made.outcome == Outcome.continue_ else None
    delivered = _delivered(history)
    return Replay(
        case_id, from_stage, given, verdicts, notices, [k for k in notices if k in delivered]
    )


async def _run_stage(settings: Settings, stage: str, given: Envelope) -> Envelope | None:
    spec = stage_spec(stage)
    async with StageHarness(spec, settings) as harness:
        outputs = await harness.feed(
            harness.message(given.model_dump_json().encode(), key=given.case_id.encode())
        )
    ends = {spec.forward, TERMINATED, REVIEW}
    for out in outputs:
        if out.topic in ends:
            return Envelope.model_validate_json(out.value)
    return None


def replay_input(replay: Replay, replay_id: str) -> Envelope:
    """The original input of the stage, issued again as a replay's own event."""
    given = replay.input_event
    causation = f"replay:{replay_id}|{given.causation_id}"
    return given.model_copy(
        update={
            "event_id": event_id_for(given.case_id, given.stage, causation),
            "causation_id": causation,
            "producer": Producer(service=REPLAY_PRODUCER, version=replay_id),
        }
    )


def new_replay_id() -> str:
    return f"rp-{secrets.token_hex(6)}"


async def execute(settings: Settings, bootstrap: str, replay: Replay) -> Envelope:
    """Publish the replay's input to the stage's input topic; the pipeline does the rest."""
    event = replay_input(replay, new_replay_id())
    topic = stage_spec(replay.from_stage).inputs[0]
    async with kafka_producer(settings, bootstrap) as producer:
        await producer.send_and_wait(
            topic, event.model_dump_json().encode(), key=event.case_id.encode()
        )
    return event


def as_json(replay: Replay) -> bytes:
    return orjson.dumps(
        {
            "case_id": replay.case_id,
            "from_stage": replay.from_stage,
            "stages": [
                {
                    "stage": v.stage,
                    "original": v.original,
                    "replayed": v.replayed,
                    "changed": v.changed,
                }
                for v in replay.verdicts
            ],
            "notices": replay.notices,
            "already_delivered": replay.already_delivered,
        }
    )
