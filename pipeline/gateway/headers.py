"""Security headers on every answer, errors and static files included.

An ASGI middleware rather than a route decorator, so no answer can leave without them. Pages
load nothing but their own style sheet (`default-src 'self'`, no script at all); only the API
documentation at /docs runs FastAPI's Swagger UI, which comes from its CDN with an inline
start-up script, so that one page allows exactly that.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)
_SWAGGER_CDN = "https://cdn.jsdelivr.net"
DOCS_CSP = (
    f"default-src 'self'; script-src 'self' 'unsafe-inline' {_SWAGGER_CDN}; "
    f"style-src 'self' 'unsafe-inline' {_SWAGGER_CDN}; img-src 'self' data: "
    "https://fastapi.tiangolo.com; base-uri 'none'; object-src 'none'; frame-ancestors 'none'"
)
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect"})

_ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # status tokens are in URLs: never in a Referer
    "X-Frame-Options": "DENY",
}


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _ALWAYS.items():
                    headers[name] = value
                # A route may narrow the policy further (the evidence download sandboxes
                # itself); none widens it.
                if "content-security-policy" not in headers:
                    headers["Content-Security-Policy"] = DOCS_CSP if path in DOCS_PATHS else CSP
                if "cache-control" not in headers and not path.startswith("/static/"):
                    # Pages carry case ids, tokens and evidence: no shared cache keeps them.
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, with_headers)
