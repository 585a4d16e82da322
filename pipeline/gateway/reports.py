"""Taking a report: the received stage's own admission, then `hotline.intake`.

The API and the public form both come here, so a report either is refused for the reason the
received stage would give (the same code: `pipeline.intake.admit`) or is on `hotline.intake`,
keyed by its host as `hotline submit` keys it, before the reporter learns its case id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import structlog

from pipeline.gateway.context import Gateway
from pipeline.intake import Refused, intake_key, prepare_submission
from pipeline.runtime.ids import status_token_for
from pipeline.runtime.topics import INTAKE

log = structlog.get_logger("hotline.gateway")


@dataclass(frozen=True)
class Taken:
    case_id: str
    status_token: str


async def take_report(gw: Gateway, raw: bytes, sender: str) -> Taken | Refused:
    """Admit and publish one report; `sender` prefixes the submission id it may be given."""
    value, decision = prepare_submission(raw, sender)
    if isinstance(decision, Refused):
        log.info("report refused", sender=sender, reason=decision.reason.value)
        return decision
    await gw.publisher.publish(INTAKE, value, intake_key(decision))
    # The case id only: the report's URL and words are the ledger's to keep, not the log's.
    log.info("report taken", sender=sender, case_id=decision.case_id)
    return Taken(decision.case_id, status_token_for(decision.case_id, gw.token_secret))


def form_report(
    *, url: str, category: str, description: str, language: str, name: str, email: str
) -> bytes:
    """The intake report a filled-in public form makes (channel `web_form`).

    Empty fields are left out, so admission judges what the reporter gave: a form without a
    URL is `missing_url`, as from any intake service. Name and e-mail go into `contact`, which
    the received stage moves into the ledger; without them the report is anonymous.
    """
    report: dict[str, Any] = {
        "url": url.strip(),
        "category": category,
        "description": description.strip(),
        "language": language,
        "channel": "web_form",
        "submitted_at": datetime.now(UTC).isoformat(),
    }
    if not report["url"]:
        del report["url"]
    contact = {k: v.strip() for k, v in (("name", name), ("email", email)) if v.strip()}
    if contact:
        report["contact"] = contact
    return orjson.dumps(report)
