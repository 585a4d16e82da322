"""Builders of test inputs shared across test modules (fixtures are in tests/fixtures/)."""

from __future__ import annotations

from typing import Any

import orjson

from pipeline.runtime.topics import INTAKE
from schemas import SourceRef

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
