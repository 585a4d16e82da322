"""Who is calling: API keys, their roles, and the login cookie of the staff's pages.

Every key has one role (`intake`, `reviewer`, `operator`, `auditor`) and a label (who holds it),
both kept by the ledger, which stores keys hashed. API calls present the key in `X-API-Key` or
`Authorization: Bearer`; the HTML pages also take it from the HttpOnly, SameSite=Strict cookie
that `/login` sets. JSON routes never read the cookie: a browser adds cookies to requests other
sites make it send, headers it does not.

Each non-public route declares its roles with `require(...)`: no key or an unknown key is 401,
a key of another role is 403.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyCookie, APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from pipeline.gateway.context import gateway
from schemas.ledger import Role

COOKIE = "hotline_key"
# The longest key the ledger would issue is far shorter; a longer one is not looked up.
MAX_KEY_LENGTH = 200

# Declared as FastAPI security schemes so /docs shows them; none fails on its own (auto_error
# off): `require` decides, so the answer is always ours (401 or 403).
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key.")
_bearer = HTTPBearer(auto_error=False, description="An API key as a bearer token.")
_cookie = APIKeyCookie(name=COOKIE, auto_error=False, description="Set by POST /login.")


@dataclass(frozen=True)
class Caller:
    role: Role
    label: str  # who holds the key: recorded as the reviewer of a decision
    key_id: str  # a hash of the key: names the caller's rate-limit bucket, never logged raw


class NotAuthenticated(Exception):
    """No key, or a key the ledger does not know: 401."""


class NotAllowed(Exception):
    """A key of a role this route is not for: 403."""

    def __init__(self, role: Role) -> None:
        super().__init__(role)
        self.role = role


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _presented(
    request: Request,
    header: str | None,
    bearer: HTTPAuthorizationCredentials | None,
    cookie: str | None,
) -> str | None:
    if header:
        return header
    if bearer is not None and bearer.credentials:
        return bearer.credentials
    if cookie and not is_api(request):
        return cookie
    return None


def caller_of(request: Request, secret: str | None) -> Caller | None:
    """The caller a key names, or None for no key or an unknown one."""
    if not secret or len(secret) > MAX_KEY_LENGTH:
        return None
    ledger = gateway(request).ledger
    role = ledger.role_of(secret)
    if role is None:
        return None
    label = ledger.key_label(secret) or role
    return Caller(role=role, label=label, key_id=hashlib.sha256(secret.encode()).hexdigest())


def require(*roles: Role) -> Any:
    """A route dependency: the caller, when their key's role is one of `roles`."""
    allowed = frozenset(roles)

    # A plain function: FastAPI runs it in its thread pool, so the ledger's look-up does not
    # hold up the event loop.
    def authorised(
        request: Request,
        header: Annotated[str | None, Security(_header)] = None,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)] = None,
        cookie: Annotated[str | None, Security(_cookie)] = None,
    ) -> Caller:
        caller = caller_of(request, _presented(request, header, bearer, cookie))
        if caller is None:
            raise NotAuthenticated()
        if caller.role not in allowed:
            raise NotAllowed(caller.role)
        return caller

    authorised.__name__ = f"require_{'_or_'.join(sorted(allowed))}"
    return Depends(authorised)


# The callers of each route's role set, as route parameter types.
Intake = Annotated[Caller, require("intake")]
Reviewer = Annotated[Caller, require("reviewer")]
Auditor = Annotated[Caller, require("auditor")]
Operator = Annotated[Caller, require("operator")]
OperatorOrAuditor = Annotated[Caller, require("operator", "auditor")]
