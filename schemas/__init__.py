"""Typed models at every boundary of the pipeline, and their exported JSON Schemas."""

from schemas.envelope import (
    CaseReport,
    CaseSnapshot,
    Envelope,
    Outcome,
    Producer,
    RedirectHop,
    StageName,
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
    "DeadLetter",
    "Envelope",
    "FieldProblem",
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
    "UrlFacts",
]
