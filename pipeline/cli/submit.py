"""Publish reports to `hotline.intake`, as an intake service would."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from rich.console import Console
from rich.progress import Progress

from pipeline.config import Settings
from pipeline.intake import Refused, intake_key, prepare_submission
from pipeline.runtime.ids import status_token_for
from pipeline.runtime.kafka_io import kafka_producer
from pipeline.runtime.topics import INTAKE


def report_from_options(
    url: str,
    category: str,
    description: str,
    language: str | None,
    channel: str,
    email: str | None,
) -> bytes:
    report: dict[str, Any] = {
        "url": url,
        "category": category,
        "description": description,
        "channel": channel,
        "submitted_at": datetime.now(UTC).isoformat(),
    }
    if language:
        report["language"] = language
    if email:
        report["contact"] = {"email": email}
    return orjson.dumps(report)


def prepare(line: bytes, secret: str) -> tuple[bytes, bytes | None, dict[str, Any]]:
    """The message to send, its key (the URL's host) and the receipt for the submitter.

    A report without a submission id gets one, so its case id is known before it is sent.
    A report that would be rejected is not sent; the receipt says why.
    """
    line, decision = prepare_submission(line, "cli")
    if isinstance(decision, Refused):
        return line, None, {"rejected": decision.reason.value, "message": decision.message}
    case_id = decision.case_id
    receipt = {"case_id": case_id, "status_token": status_token_for(case_id, secret)}
    return line, intake_key(decision), receipt


async def submit_lines(
    settings: Settings, bootstrap: str, lines: list[bytes], console: Console
) -> list[dict[str, Any]]:
    secret = settings.token_secret.get_secret_value()
    receipts: list[dict[str, Any]] = []
    pending = []
    async with kafka_producer(settings, bootstrap) as producer:
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("submitting", total=len(lines))
            for number, line in enumerate(lines, start=1):
                progress.advance(task)
                if not line.strip():
                    continue
                # A line that is no JSON gets admission's own `malformed_json` receipt.
                value, key, receipt = prepare(line, secret)
                receipts.append({"line": number, **receipt})
                if key is not None:
                    pending.append(await producer.send(INTAKE, value, key=key))
            for future in pending:
                await future
    return receipts
