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

from pipeline.lookups.dns import DnsResolver
from pipeline.lookups.failures import LinkFailure, link_failure
from pipeline.lookups.links import LinkCheck, LinkChecker
from pipeline.lookups.retry import with_retries
from pipeline.runtime.envelopes import envelope_output, input_event_id, next_envelope, read_envelope
from pipeline.runtime.reasons import ReasonCode
from pipeline.runtime.stage import Handler, Inbound, Outbound, StageContext, StageSpec
from pipeline.runtime.topics import TERMINATED
from schemas import Outcome, StageName, UrlFacts

STAGE: StageName = "url-verify"
INPUTS = ("hotline.received",)
URL_VERIFIED = "hotline.url-verified"
OUTPUTS = (URL_VERIFIED, TERMINATED)  # the link works; it cannot


class LinkAnswer(ReasonCode):
    """The site answers, but says the page is not there."""

    not_found = "not_found", "The site answers that the page does not exist (404)."
    gone = "gone", "The site answers that the page was removed (410)."


Reason = LinkFailure | LinkAnswer


# ---------------------------------------------------------------- pure decision


def verdict(check: LinkCheck) -> tuple[Outcome, Reason | None]:
    """Continue with a link that answers; terminate, with a reason, one that cannot work.
    Called with the last try's check."""
    failure = link_failure(check)
    if failure is not None:
        return Outcome.terminated, failure
    status = check.status or 0
    if status == 404:
        return Outcome.terminated, LinkAnswer.not_found
    if status == 410:
        return Outcome.terminated, LinkAnswer.gone
    # 401/403: the site answers but wants a login or refuses robots; the analyst still looks.
    if status >= 400 and status not in (401, 403):
        return Outcome.terminated, LinkFailure.refused
    return Outcome.continue_, None


def url_facts(check: LinkCheck, attempts: int, host: str, reason: Reason | None) -> UrlFacts:
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
        error=None if reason is None else reason.explain(check.detail or check.status),
    )


# ---------------------------------------------------------------- agent wiring


def build(context: StageContext) -> Handler:
    settings = context.settings
    checker = LinkChecker(settings, DnsResolver(settings))
    context.on_shutdown(checker.close)

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


SPEC = StageSpec(
    name=STAGE,
    inputs=INPUTS,
    outputs=OUTPUTS,
    build=build,
    identify=input_event_id,
    concurrent=True,
    reasons=(LinkFailure, LinkAnswer),
)
