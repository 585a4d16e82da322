"""url-verify: does the reported link resolve, and does the site answer?

Resolves the host (A and AAAA, CNAME chain recorded), refuses private, loopback, link-local,
multicast and metadata targets (pipeline/lookups/guard.py), then asks the site with HEAD (GET
when HEAD is refused), following redirects one checked hop at a time. Transient failures
(timeouts, 5xx, 429) are tried again with backoff before the case ends as "unreachable". A link
that works goes on with its facts; one that cannot work ends the case with a reason the reporter
can be told.
"""

from __future__ import annotations

from datetime import UTC, datetime

import faust

from pipeline.config import Settings
from pipeline.lookups.dns import DnsResolver
from pipeline.lookups.failures import explain, link_failure
from pipeline.lookups.links import LinkCheck, LinkChecker
from pipeline.lookups.retry import with_retries
from pipeline.runtime.envelopes import envelope_output, input_event_id, next_envelope, read_envelope
from pipeline.runtime.runner import Handler, Inbound, Outbound, StageSpec
from pipeline.runtime.topics import RECEIVED, TERMINATED, URL_VERIFIED
from schemas import Outcome, StageName, UrlFacts

STAGE: StageName = "url-verify"
INPUTS = (RECEIVED,)  # outputs: URL_VERIFIED (the link works), TERMINATED (it cannot)


def verdict(check: LinkCheck) -> tuple[Outcome, str | None]:
    """Continue with a link that answers; terminate, with a reason code (pipeline/reasons.py),
    one that cannot work. Called with the last try's check."""
    failure = link_failure(check)
    if failure is not None:
        return Outcome.terminated, failure
    status = check.status or 0
    if status == 404:
        return Outcome.terminated, "not_found"
    if status == 410:
        return Outcome.terminated, "gone"
    # 401/403: the site answers but wants a login or refuses robots; the analyst still looks.
    if status >= 400 and status not in (401, 403):
        return Outcome.terminated, "refused"
    return Outcome.continue_, None


def url_facts(check: LinkCheck, attempts: int, host: str, reason: str | None) -> UrlFacts:
    resolution = check.resolution
    return UrlFacts(
        checked_at=datetime.now(UTC),
        host=host,
        addresses=list(resolution.addresses) if resolution else [],
        cname_chain=list(resolution.cname_chain) if resolution else [],
        final_url=check.final_url,
        status=check.status,
        method="GET" if check.method == "GET" else ("HEAD" if check.method else None),
        redirects=list(check.redirects),
        content_type=check.content_type,
        attempts=attempts,
        dns_ms=resolution.elapsed_ms if resolution else None,
        http_ms=check.http_ms,
        error=None if reason is None else explain(reason, check.detail or check.status),
    )


# ---------------------------------------------------------------- agent wiring


def build(app: faust.App, settings: Settings) -> Handler:
    checker = LinkChecker(settings, DnsResolver(settings))

    @app.on_before_shutdown.connect  # type: ignore[arg-type]  # mode types receivers as a union mypy cannot match
    async def close_client(sender: object, **kwargs: object) -> None:
        await checker.close()

    async def handle(inbound: Inbound) -> list[Outbound]:
        previous = read_envelope(inbound.value)
        report = previous.case.report
        check, attempts = await with_retries(lambda: checker.check(report.url), settings)
        outcome, reason = verdict(check)
        case = previous.case.model_copy(
            update={"url": url_facts(check, attempts, report.host, reason)}
        )
        envelope = next_envelope(previous, STAGE, outcome, reason, case)
        topic = URL_VERIFIED if outcome is Outcome.continue_ else TERMINATED
        return [envelope_output(topic, envelope)]

    return handle


SPEC = StageSpec(name=STAGE, inputs=INPUTS, build=build, identify=input_event_id, concurrent=True)
