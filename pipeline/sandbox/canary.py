"""The canary: an HTTP server on 127.0.0.1, outside the sandbox network, that counts every request.

Sandbox pages redirect to it and trap names resolve to its address; a fetcher that honours its
SSRF guard never reaches it, so a test asserts `hits` did not move.
"""

from __future__ import annotations

from aiohttp import web

from pipeline.sandbox.httpd import latency_middleware
from pipeline.sandbox.zones import CANARY_ADDRESS


class Canary:
    def __init__(self) -> None:
        self.hits = 0
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://{CANARY_ADDRESS}:{self.port}/"

    def build_app(self, latency: float) -> web.Application:
        """Answers any method on any path, counting it."""

        async def hit(request: web.Request) -> web.Response:
            self.hits += 1
            return web.Response(text="canary\n")

        app = web.Application(middlewares=[latency_middleware(latency)])
        app.router.add_route("*", "/{path:.*}", hit)
        return app
