"""Builders of test inputs shared across test modules (fixtures are in tests/fixtures/)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from pipeline.runtime.topics import INTAKE
from pipeline.sandbox.cases import received_envelope
from schemas import Category, ContentFacts, Envelope, HashMatch, SourceRef

SOURCE = SourceRef(topic=INTAKE, partition=2, offset=41, timestamp_ms=1_795_000_000_000)


def report(**changes: Any) -> dict[str, Any]:
    """An intake report as a JSON object; a change to None removes the field."""
    base: dict[str, Any] = {
        "url": "https://example.kz/page",
        "category": "hate",
        "description": "Ұлтаралық араздық",
        "language": "kk",
        "channel": "web_form",
        "submitted_at": "2026-11-23T10:00:00+06:00",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def encode(document: Any) -> bytes:
    return orjson.dumps(document)


def content_checked(
    text: str | None,
    reported: Category,
    *,
    case_id: str = "HL-TEST-0001",
    url: str = "http://example.kz/page",
    language: str | None = "ru",
    title: str | None = None,
    matches: tuple[Category, ...] = (),
) -> Envelope:
    """A case as content-check hands it on, with the given visible text."""
    case = received_envelope(url, "example.kz", case_id, reported)
    content = ContentFacts(
        checked_at=datetime.now(UTC),
        url=url,
        status=200,
        declared_type="text/html",
        mime="text/html",
        size=len(text or ""),
        truncated=False,
        title=title,
        text=text,
        language=language,
        hash_matches=[
            HashMatch(bank=f"bank-{c}", category=c, signal="sha256", distance=0, url=url)
            for c in matches
        ],
        attempts=1,
    )
    return case.model_copy(
        update={
            "stage": "content-check",
            "event_id": f"ev-{case_id}",
            "case": case.case.model_copy(update={"content": content}),
        }
    )
