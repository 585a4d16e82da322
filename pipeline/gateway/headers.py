"""Security headers on every answer, errors and static files included.

An ASGI middleware rather than a route decorator, so no answer can leave without them. Pages
load nothing but their own style sheet (`default-src 'self'`, no script at all); only the API
documentation at /docs runs a script: Swagger UI from our own /static/swagger, started by one
inline script that its policy allows by hash (never 'unsafe-inline', never another host).
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)
DOCS_PATHS = frozenset({"/docs"})


def docs_policy(script_hashes: Iterable[str]) -> str:
    """The policy of /docs: scripts, style and images from our origin, the inline scripts of
    `script_hashes` ('sha256-…'), and the data: images of Swagger UI's style sheet."""
    scripts = "".join(f" '{source}'" for source in script_hashes)
    return (
        f"default-src 'self'; script-src 'self'{scripts}; style-src 'self'; "
        "img-src 'self' data:; base-uri 'none'; object-src 'none'; frame-ancestors 'none'; "
        "form-action 'self'"
    )


_ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # status tokens are in URLs: never in a Referer
    "X-Frame-Options": "DENY",
}


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, docs_csp: str = CSP) -> None:
        self.app = app
        self.docs_csp = docs_csp  # the policy of DOCS_PATHS (by default, everyone's)

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
                    headers["Content-Security-Policy"] = (
                        self.docs_csp if path in DOCS_PATHS else CSP
                    )
                if "cache-control" not in headers and not path.startswith("/static/"):
                    # Pages carry case ids, tokens and evidence: no shared cache keeps them.
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, with_headers)
