"""The delivery worker: every notice on `hotline.notices` sent once, its receipt recorded.

Its own consumer group (`hotline-delivery`), run by the same runtime as the stages. Before
sending, a worker looks the notice's idempotency key up in the receipts every delivery worker
shares (`hotline.deliveries`, read whole at start and followed): a key with a receipt is never
sent again, whatever is replayed or restarted. A send is tried `HOTLINE_DELIVERY_ATTEMPTS`
times with doubling waits (once, when the server refuses it for good: an SMTP 5xx, an HTTP
4xx); then the notice goes to `hotline.dlq.delivery` with a `failed` receipt, for
operations. A kill between sending and recording can repeat one send: the key travels with it
(Message-ID, `Idempotency-Key`) for the recipient to drop. A notice held
(a police hold before a csam takedown) gets a `held` receipt carrying it, and the worker that
owns its partition sends it when the hold ends. A notice for a web form cannot be sent by a
machine: its receipt says `manual`, until an operator confirms it was filed.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any, Literal

import orjson
import structlog
from pydantic import ValidationError

from pipeline.delivery.options import DeliveryOptions
from pipeline.delivery.senders import SendFailed, SmtpSender, WebhookSender
from pipeline.runtime.runner import dead_letter
from pipeline.runtime.stage import (
    Handler,
    Inbound,
    Outbound,
    PermanentError,
    StageContext,
    StageSpec,
)
from pipeline.runtime.topics import DELIVERIES, NOTICES
from schemas import SourceRef
from schemas.dispatch import DeliveryReceipt, DeliveryStatus, Notice

log = structlog.get_logger("hotline.delivery")

SERVICE = "delivery"
INPUTS = (NOTICES,)
OUTPUTS = (DELIVERIES,)

Step = Literal["skip", "hold", "send", "manual"]
_DONE: frozenset[str] = frozenset({"delivered", "manual", "confirmed"})


def next_step(notice: Notice, known: dict[str, Any] | None, now: datetime) -> Step:
    """What to do with a notice, given its latest receipt (pure)."""
    status = known.get("status") if isinstance(known, dict) else None
    if status in _DONE:
        return "skip"
    if notice.not_before is not None and notice.not_before > now:
        return "skip" if status == "held" else "hold"
    if notice.recipient.channel == "form":
        return "manual"
    return "send"  # new, failed before (a dead letter replayed), or held and now due


def receipt(
    notice: Notice, status: DeliveryStatus, attempts: int, detail: str = ""
) -> DeliveryReceipt:
    return DeliveryReceipt(
        idempotency_key=notice.idempotency_key,
        case_id=notice.case_id,
        kind=notice.kind,
        recipient=f"{notice.recipient.kind}: {notice.recipient.address}",
        channel=notice.recipient.channel,
        status=status,
        at=datetime.now(UTC),
        attempts=attempts,
        deadline=notice.deadline,
        not_before=notice.not_before,
        detail=detail[:1000],
        notice=notice if status == "held" else None,
    )


def read_notice(raw: bytes) -> Notice:
    try:
        return Notice.model_validate_json(raw)
    except ValidationError as error:
        raise PermanentError(f"not a notice: {error}") from error


def notice_identity(inbound: Inbound) -> str | None:
    try:
        document = orjson.loads(inbound.value)
    except orjson.JSONDecodeError:
        return None
    key = document.get("idempotency_key") if isinstance(document, dict) else None
    return key if isinstance(key, str) else None


def build(context: StageContext) -> Handler:
    options = context.options(DeliveryOptions)
    receipts = context.shared(DELIVERIES)
    smtp = SmtpSender(options, context.settings.concurrency)
    webhook = WebhookSender(options)
    context.on_shutdown(smtp.close)
    context.on_shutdown(webhook.close)
    in_flight: dict[str, asyncio.Future[None]] = {}

    def recorded(
        notice: Notice, status: DeliveryStatus, attempts: int, detail: str = ""
    ) -> Outbound:
        made = receipt(notice, status, attempts, detail)
        # What the next look needs: the status, and a held notice itself (as the topic has it).
        kept = made.model_dump(mode="json") if status == "held" else {"status": status}
        receipts.remember(notice.idempotency_key, kept)
        return Outbound(
            DELIVERIES,
            notice.idempotency_key.encode(),
            made.model_dump_json().encode(),
            case_id=notice.case_id,
            event_id=f"{notice.idempotency_key}:{status}",
        )

    async def send_once(notice: Notice, inbound: Inbound) -> list[Outbound]:
        sender = smtp if notice.recipient.channel == "email" else webhook
        attempts = 0
        while True:
            attempts += 1
            try:
                answer = await sender.send(notice)
                return [recorded(notice, "delivered", attempts, answer)]
            except SendFailed as failure:
                if failure.permanent or attempts >= options.delivery_attempts:
                    log.error(
                        "notice not delivered",
                        case_id=notice.case_id,
                        key=notice.idempotency_key,
                        attempts=attempts,
                        error=str(failure),
                    )
                    cap = context.settings.dead_letter_bytes_cap
                    letter = dead_letter(SPEC, inbound, failure, attempts, cap)
                    return [recorded(notice, "failed", attempts, str(failure)), letter]
                await asyncio.sleep(options.delivery_backoff * 2 ** (attempts - 1))

    async def deliver(notice: Notice, inbound: Inbound) -> list[Outbound]:
        key = notice.idempotency_key
        await receipts.loaded()
        step = next_step(notice, receipts.get(key), datetime.now(UTC))
        if step == "skip":
            return []
        if step == "hold":
            return [recorded(notice, "held", 0, f"held until {notice.not_before}")]
        if step == "manual":
            return [recorded(notice, "manual", 0, f"to be filed at {notice.recipient.address}")]
        pending = in_flight.get(key)
        if pending is not None:  # the same notice twice at once: the first one sends
            await asyncio.shield(pending)
            return []
        in_flight[key] = asyncio.get_running_loop().create_future()
        try:
            return await send_once(notice, inbound)
        finally:
            in_flight.pop(key).set_result(None)

    async def handle(inbound: Inbound) -> list[Outbound]:
        return await deliver(read_notice(inbound.value), inbound)

    async def release_held() -> list[Outbound]:
        """Held notices whose hold has ended, of the partitions this worker owns."""
        now = datetime.now(UTC)
        outputs: list[Outbound] = []
        for key, value in receipts.items():
            held = isinstance(value, dict) and value.get("status") == "held"
            if not held or not value.get("notice"):
                continue
            try:
                notice = Notice.model_validate(value["notice"])
            except ValidationError:  # a receipt this worker cannot read: leave it, say so
                log.warning("held receipt unreadable", key=key)
                continue
            owner = notice.case_id.encode()
            if notice.not_before is None or notice.not_before > now or not context.owns(owner):
                continue
            raw = notice.model_dump_json().encode()
            # Sent from the hold schedule, not from a message: no offset to name.
            stamp = int(now.timestamp() * 1000)
            source = SourceRef(topic=NOTICES, partition=0, offset=-1, timestamp_ms=stamp)
            try:
                outputs += await deliver(notice, Inbound(owner, raw, source, {}))
            except Exception as error:  # the next look tries again; the clock must keep going
                log.error("held notice not sent", key=key, error=repr(error))
        return outputs

    context.timer(options.delivery_hold_check, release_held)
    return handle


SPEC = StageSpec(
    name=SERVICE,
    inputs=INPUTS,
    outputs=OUTPUTS,
    build=build,
    identify=notice_identity,
    concurrent=True,
    options=DeliveryOptions,
)
