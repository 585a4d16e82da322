"""JSON Schema export of the published models (intake services validate before they send)."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from schemas.directory import Cdns, DomesticDirectory, PartnerHotlines, Platforms
from schemas.dispatch import DeliveryReceipt, Notice
from schemas.envelope import Envelope
from schemas.ledger import Appeal, AppealDecision
from schemas.monitor import LagSnapshot
from schemas.records import DeadLetter, Rejection, ReviewDecision
from schemas.report import Report

PUBLISHED: dict[str, type[BaseModel]] = {
    "report.json": Report,
    "envelope.json": Envelope,
    "rejection.json": Rejection,
    "dead-letter.json": DeadLetter,
    "review-decision.json": ReviewDecision,
    "notice.json": Notice,
    "delivery-receipt.json": DeliveryReceipt,
    "appeal.json": Appeal,
    "appeal-decision.json": AppealDecision,
    "lag-snapshot.json": LagSnapshot,
    # The directories operators edit (rules/directories/, rules/jurisdiction/).
    "partner-hotlines.json": PartnerHotlines,
    "domestic-directory.json": DomesticDirectory,
    "cdns.json": Cdns,
    "platforms.json": Platforms,
}
SCHEMA_DIR = Path(__file__).resolve().parent


def schema_text(model: type[BaseModel]) -> str:
    document = {"$schema": "https://json-schema.org/draft/2020-12/schema"}
    document.update(model.model_json_schema())
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def export_schemas(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, model in PUBLISHED.items():
        path = directory / filename
        path.write_text(schema_text(model))
        written.append(path)
    return written
