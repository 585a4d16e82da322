"""Typed models at every boundary of the pipeline, and their exported JSON Schemas."""

from schemas.envelope import (
    CaseReport,
    CaseSnapshot,
    ContentFacts,
    Envelope,
    HashMatch,
    HashSignal,
    Outcome,
    Producer,
    RedirectHop,
    StageName,
    StoredObject,
    UrlFacts,
)
from schemas.records import (
    DeadLetter,
    FieldProblem,
    LedgerContact,
    Rejection,
    RejectionReason,
    SourceRef,
)
from schemas.report import Category, Channel, Report, ReporterContact

__all__ = [
    "CaseReport",
    "CaseSnapshot",
    "Category",
    "Channel",
    "ContentFacts",
    "DeadLetter",
    "Envelope",
    "FieldProblem",
    "HashMatch",
    "HashSignal",
    "LedgerContact",
    "Outcome",
    "Producer",
    "RedirectHop",
    "Rejection",
    "RejectionReason",
    "Report",
    "ReporterContact",
    "SourceRef",
    "StageName",
    "StoredObject",
    "UrlFacts",
]
