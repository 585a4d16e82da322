"""Delivery against the sandbox's SMTP and webhook sinks: once per key, retries with backoff,
the dead-letter topic after the budget, held notices, forms, and signatures recipients check."""

from __future__ import annotations

import asyncio
import hashlib
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from pipeline.config import Settings
from pipeline.delivery.options import DeliveryOptions
from pipeline.delivery.service import SPEC, next_step
from pipeline.runtime.harness import StageHarness
from pipeline.runtime.topics import DELIVERIES, NOTICES
from pipeline.sandbox import Sandbox
from schemas import DeadLetter
from schemas.dispatch import DeliveryReceipt, Notice
from schemas.jurisdiction import Recipient


def options() -> DeliveryOptions:
    """Read after `sandbox_settings` points the environment at the sandbox's sinks."""
    return DeliveryOptions(delivery_backoff=0.01, delivery_attempts=4)


README = Path(__file__).resolve().parents[3] / "README.md"


def notice(
    address: str, *, channel: str = "email", case_id: str = "HL-DEL-1", **changes: Any
) -> Notice:
    now = datetime.now(UTC)
    recipient = Recipient(kind="hosting", name="Host", channel=channel, address=address,  # type: ignore[arg-type]
                          language="en", source="test")  # fmt: skip
    fields: dict[str, Any] = {
        "idempotency_key": hashlib.sha256(f"{case_id}|{address}".encode()).hexdigest()[:32],
        "case_id": case_id,
        "kind": "takedown_request",
        "recipient": recipient,
        "rule": "test",
        "basis": "a test",
        "category": "hate",
        "url": "http://site.kz/",
        "host": "site.kz",
        "issued_at": now,
        "deadline": now + timedelta(hours=48),
        "language": "en",
        "subject": f"[{case_id}] Request to remove illegal content",
        "body": "Please remove it.",
    }
    fields.update(changes)
    return Notice(**fields)


async def deliver(stage: StageHarness, *notices: Notice) -> list[Any]:
    messages = [
        stage.message(n.model_dump_json().encode(), key=n.case_id.encode()) for n in notices
    ]
    return await stage.feed(*messages)


def receipts(outputs: list[Any]) -> list[DeliveryReceipt]:
    return [DeliveryReceipt.model_validate_json(o.value) for o in outputs if o.topic == DELIVERIES]


def mails_for(sandbox: Sandbox, key: str) -> list[bytes]:
    return [m.data for m in sandbox.mailbox if f"<{key}@hotline.notices>".encode() in m.data]


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def test_a_notice_is_mailed_once_with_its_key(sandbox: Sandbox, sandbox_settings: Settings) -> None:
    sandbox.reset()
    one = notice("abuse@host.kz.test")

    async def go() -> list[Any]:
        async with StageHarness(SPEC, sandbox_settings, options()) as stage:
            first = await deliver(stage, one)
            # A duplicate event and a replay: nothing more is sent.
            again = await deliver(stage, one.model_copy(update={"subject": "changed"}))
            return first + again

    (made,) = receipts(run(go()))
    assert (made.status, made.attempts, made.channel) == ("delivered", 1, "email")
    (mail,) = mails_for(sandbox, one.idempotency_key)
    assert b"Idempotency-Key: " + one.idempotency_key.encode() in mail
    assert b"Content-Language: en" in mail


def test_a_receipt_from_before_a_restart_stops_a_second_send(
    sandbox: Sandbox, sandbox_settings: Settings
) -> None:
    sandbox.reset()
    one = notice("abuse@restart.kz.test")

    async def go() -> list[Any]:
        async with StageHarness(SPEC, sandbox_settings, options()) as first:
            made = await deliver(first, one)
        async with StageHarness(SPEC, sandbox_settings, options()) as restarted:
            # What the restarted worker reads from hotline.deliveries at start.
            table = restarted.context.shared(DELIVERIES)
            for out in made:
                table.put(out.key.decode(), orjson.loads(out.value))
            return await deliver(restarted, one)

    assert run(go()) == []
    assert len(mails_for(sandbox, one.idempotency_key)) == 1


def test_a_recipient_failing_twice_then_succeeding_gets_one_delivery(
    sandbox: Sandbox, sandbox_settings: Settings
) -> None:
    sandbox.reset()
    refused = sandbox.smtp_refused
    flaky = notice("flaky2-abuse@host.kz.test")

    async def go() -> list[Any]:
        async with StageHarness(SPEC, sandbox_settings, options()) as stage:
            return await deliver(stage, flaky)

    (made,) = receipts(run(go()))
    assert (made.status, made.attempts) == ("delivered", 3)
    assert sandbox.smtp_refused - refused == 2
    assert len(mails_for(sandbox, flaky.idempotency_key)) == 1


def test_a_recipient_that_keeps_failing_ends_in_the_dead_letter_topic(
    sandbox: Sandbox, sandbox_settings: Settings
) -> None:
    broken = notice("broken-abuse@host.kz.test")

    async def go() -> list[Any]:
        async with StageHarness(SPEC, sandbox_settings, options()) as stage:
            return await deliver(stage, broken)

    outputs = run(go())
    (made,) = receipts(outputs)
    assert (made.status, made.attempts) == ("failed", options().delivery_attempts)
    (letter,) = [o for o in outputs if o.topic == "hotline.dlq.delivery"]
    record = DeadLetter.model_validate_json(letter.value)
    assert record.stage == "delivery" and "451" in record.error


def test_a_flaky_webhook_gets_one_success_and_every_call_is_signed(
    sandbox: Sandbox, sandbox_settings: Settings
) -> None:
    sandbox.reset()
    hook = notice(sandbox.webhook_flaky_url, channel="webhook", case_id="HL-DEL-HOOK")

    async def go() -> list[Any]:
        async with StageHarness(SPEC, sandbox_settings, options()) as stage:
            return await deliver(stage, hook)

    (made,) = receipts(run(go()))
    assert (made.status, made.attempts) == ("delivered", 3)
    calls = [
        c for c in sandbox.webhook_calls if c.headers.get("Idempotency-Key") == hook.idempotency_key
    ]
    assert len(calls) == 3
    assert Notice.model_validate_json(calls[-1].body).case_id == "HL-DEL-HOOK"


def readme_snippet() -> str:
    """The verification snippet README.md gives recipients, exactly as printed there."""
    text = README.read_text()
    found = re.search(r"<!-- webhook-verify -->\s*```python\n(.*?)```", text, re.S)
    assert found, "README.md lost its webhook verification snippet"
    return found.group(1)


def test_the_webhook_signature_verifies_with_the_documented_snippet(
    sandbox: Sandbox, sandbox_settings: Settings
) -> None:
    sandbox.reset()
    hook = notice(sandbox.webhook_url, channel="webhook", case_id="HL-DEL-SIGN")

    async def go() -> None:
        async with StageHarness(SPEC, sandbox_settings, options()) as stage:
            await deliver(stage, hook)

    run(go())
    (call,) = [
        c for c in sandbox.webhook_calls if c.headers.get("Idempotency-Key") == hook.idempotency_key
    ]
    namespace: dict[str, Any] = {}
    exec(readme_snippet(), namespace)  # the recipients' own code
    verify = namespace["verify"]
    secret = options().webhook_secret.get_secret_value()
    headers = dict(call.headers)
    assert verify(secret, headers, call.body) is True
    assert verify("another secret", headers, call.body) is False
    assert verify(secret, headers, call.body + b" ") is False
    stale = {**headers, "X-Hotline-Timestamp": str(int(headers["X-Hotline-Timestamp"]) - 3600)}
    assert verify(secret, stale, call.body) is False


def test_a_form_is_for_a_person_to_file(sandbox_settings: Settings) -> None:
    form = notice("https://partner.example/report", channel="form")

    async def go() -> list[Any]:
        async with StageHarness(SPEC, sandbox_settings, options()) as stage:
            return await deliver(stage, form)

    (made,) = receipts(run(go()))
    assert made.status == "manual" and "partner.example" in made.detail


def test_a_held_notice_is_sent_when_its_hold_ends(
    sandbox: Sandbox, sandbox_settings: Settings
) -> None:
    sandbox.reset()
    held = notice("abuse@held.kz.test", not_before=datetime.now(UTC) + timedelta(seconds=0.5))

    async def go() -> tuple[list[Any], list[Any], list[Any]]:
        async with StageHarness(SPEC, sandbox_settings, options()) as stage:
            first = await deliver(stage, held)
            early = await stage.tick()
            await asyncio.sleep(0.6)
            due = await stage.tick()
            return first, early, due

    first, early, due = run(go())
    assert [r.status for r in receipts(first)] == ["held"]
    assert receipts(first)[0].notice == held
    assert early == []
    assert [r.status for r in receipts(due)] == ["delivered"]
    assert len(mails_for(sandbox, held.idempotency_key)) == 1


def test_what_to_do_with_a_notice_given_its_last_receipt() -> None:
    now = datetime.now(UTC)
    mail, later = notice("a@b.kz"), notice("a@b.kz", not_before=now + timedelta(hours=1))
    assert next_step(mail, None, now) == "send"
    assert next_step(mail, {"status": "failed"}, now) == "send"  # a dead letter replayed
    assert next_step(mail, {"status": "delivered"}, now) == "skip"
    assert next_step(mail, {"status": "confirmed"}, now) == "skip"
    assert next_step(later, None, now) == "hold"
    assert next_step(later, {"status": "held"}, now) == "skip"
    assert next_step(later, {"status": "held"}, now + timedelta(hours=2)) == "send"
    assert next_step(notice("https://f.example", channel="form"), None, now) == "manual"


def test_bad_input_is_dead_lettered(sandbox_settings: Settings) -> None:
    async def go() -> list[Any]:
        async with StageHarness(SPEC, sandbox_settings, options()) as stage:
            return await stage.feed(stage.message(b'{"idempotency_key": 1}', topic=NOTICES))

    (out,) = run(go())
    assert out.topic == "hotline.dlq.delivery"


def test_a_message_reads_back_as_sent_in_any_language() -> None:
    from email import message_from_bytes, policy

    from pipeline.delivery.senders import email_bytes

    subject = (
        "[HL-1] Құқыққа қайшы контентті жою туралы талап: заңсыз құмар ойындар, best-casino.kz"
    )
    sent = notice("abuse@host.kz.test", subject=subject, body="Мерзімі: ертең.\nNext line.")
    parsed = message_from_bytes(email_bytes(sent, "notices@hotline.kz.test"), policy=policy.default)
    assert parsed["Subject"] == subject
    assert parsed.get_content().splitlines() == ["Мерзімі: ертең.", "Next line."]
    assert parsed["Message-ID"] == f"<{sent.idempotency_key}@hotline.notices>"
    assert all(len(line) <= 78 for line in email_bytes(sent, "n@h.kz").split(b"\r\n"))


def test_a_mailbox_refused_for_good_is_not_tried_again(
    sandbox: Sandbox, sandbox_settings: Settings
) -> None:
    gone = notice("nobody-abuse@host.kz.test")

    async def go() -> list[Any]:
        async with StageHarness(SPEC, sandbox_settings, options()) as stage:
            return await deliver(stage, gone)

    outputs = run(go())
    (made,) = receipts(outputs)
    assert (made.status, made.attempts) == ("failed", 1) and "550" in made.detail
    assert [o.topic for o in outputs] == [DELIVERIES, "hotline.dlq.delivery"]


def test_an_unreadable_held_receipt_does_not_stop_the_clock(sandbox_settings: Settings) -> None:
    async def go() -> list[Any]:
        async with StageHarness(SPEC, sandbox_settings, options()) as stage:
            table = stage.context.shared(DELIVERIES)
            table.put("bad", {"status": "held", "notice": {"case_id": 7}})
            table.put("odd", "not a receipt")
            return await stage.tick()

    assert run(go()) == []
