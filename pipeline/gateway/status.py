"""What a reporter may see of their case, with its id and their secret token."""

from __future__ import annotations

import hmac

from pipeline.ledger import views
from pipeline.ledger.store import Ledger
from pipeline.runtime.ids import status_token_for
from schemas.ledger import PublicStatus


def token_matches(case_id: str, token: str | None, secret: str) -> bool:
    """In constant time: a wrong token must not tell how close it came."""
    if not token:
        return False
    expected = status_token_for(case_id, secret)
    return hmac.compare_digest(expected.encode(), token.encode())


def status_for(ledger: Ledger, case_id: str, token: str | None, secret: str) -> PublicStatus | None:
    """The public status, or None for a wrong token, exactly as for a case that never was.

    A case the ledger has not seen yet (just submitted; the received stage and the ledger are
    a moment behind) is `received`, since the token proves the gateway or the stage issued it.
    """
    if not token_matches(case_id, token, secret):
        return None
    found = views.public_status(ledger, case_id)
    return found or PublicStatus(case_id=case_id, status="received", since=None)
