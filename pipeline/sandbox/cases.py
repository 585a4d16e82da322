"""Cases as the received stage hands them on, of sandbox links: for the benchmarks and tests
of the stages after it, which need nothing but their input event."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from pipeline.runtime.ids import event_id_for
from schemas import (
    CaseReport,
    CaseSnapshot,
    Category,
    CategoryDecision,
    Envelope,
    Outcome,
    Producer,
    Verdict,
)


def received_envelope(
    url: str, host: str, case_id: str, category: Category = Category.gambling
) -> Envelope:
    """A case as the received stage would hand it on, for a link to check."""
    now = datetime.now(UTC)
    return Envelope(
        event_id=event_id_for(case_id, "received", f"bench:{case_id}"),
        case_id=case_id,
        stage="received",
        occurred_at=now,
        causation_id=f"bench:{case_id}",
        producer=Producer(service="hotline-bench", version="0"),
        outcome=Outcome.continue_,
        case=CaseSnapshot(
            report=CaseReport(
                url=url,
                reported_url=url,
                host=host,
                category=category,
                description="benchmark report",
                language="ru",
                channel="api",
                submitted_at=now,
                received_at=now,
                submission_id=None,
                has_contact=False,
                duplicate_of=None,
                report_number=1,
            )
        ),
    )


def categorized_envelope(
    url: str, host: str, case_id: str, category: Category = Category.gambling
) -> Envelope:
    """A case as the categorize stage hands it on, its reported category confirmed."""
    received = received_envelope(url, host, case_id, category)
    decision = CategoryDecision(
        decided_at=received.occurred_at,
        verdict=Verdict.confirmed,
        reported=category,
        category=category,
        confidence=0.9,
        ruleset_version="bench",
        why="Confirmed for the benchmark.",
    )
    return received.model_copy(
        update={
            "stage": "categorize",
            "event_id": event_id_for(case_id, "categorize", received.event_id),
            "causation_id": received.event_id,
            "case": received.case.model_copy(update={"category": decision}),
        }
    )


def sandbox_cases(
    url: Callable[[str, str], str], links: Iterable[tuple[str, str, Category]], prefix: str
) -> list[bytes]:
    """Received cases, as bytes on the wire, of (host, path, reported category) links; `url` is
    the sandbox's `url`, which knows its web port."""
    return [
        received_envelope(url(host, path), host, f"{prefix}-{n:04d}", category)
        .model_dump_json()
        .encode()
        for n, (host, path, category) in enumerate(links)
    ]
