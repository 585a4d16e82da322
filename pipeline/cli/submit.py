"""Publish reports to `hotline.intake`, as an intake service would."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
from rich.console import Console
from rich.progress import Progress

from pipeline.config import Settings
from pipeline.intake import Refused, admit
from pipeline.runtime.ids import status_token_for
from pipeline.runtime.kafka_io import kafka_producer
from pipeline.runtime.topics import INTAKE
from schemas import SourceRef

_NOWHERE = SourceRef(topic=INTAKE, partition=0, offset=0, timestamp_ms=0)


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
    document = orjson.loads(line)
    if isinstance(document, dict) and not document.get("submission_id"):
        document["submission_id"] = f"cli-{uuid.uuid4().hex}"
        line = orjson.dumps(document)
    decision = admit(line, _NOWHERE)
    if isinstance(decision, Refused):
        return line, None, {"rejected": decision.reason.value, "message": decision.message}
    # With a submission id the case id does not depend on where the message lands.
    case_id = decision.case_id
    receipt = {"case_id": case_id, "status_token": status_token_for(case_id, secret)}
    return line, decision.url.host.encode(), receipt


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
                try:
                    value, key, receipt = prepare(line, secret)
                except orjson.JSONDecodeError as error:
                    receipts.append(
                        {"line": number, "rejected": "malformed_json", "message": str(error)}
                    )
                    continue
                receipts.append({"line": number, **receipt})
                if key is not None:
                    pending.append(await producer.send(INTAKE, value, key=key))
            for future in pending:
                await future
    return receipts
