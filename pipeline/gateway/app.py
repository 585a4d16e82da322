"""The gateway's app factory: every router, the security headers, the error pages, the producer.

`create_app` builds an app around a ledger it is given (the gateway reads cases from it and never
writes it: what the gateway has to say goes on the topics, for the ledger worker to record).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from urllib.parse import quote

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp

from pipeline.config import Settings
from pipeline.gateway import api, operations, public_pages, staff_pages
from pipeline.gateway.auth import NotAllowed, NotAuthenticated, is_api
from pipeline.gateway.context import Gateway
from pipeline.gateway.docs import install_docs
from pipeline.gateway.headers import CSP, SecurityHeaders, docs_policy
from pipeline.gateway.models import Health
from pipeline.gateway.options import GatewayOptions
from pipeline.gateway.publish import KafkaPublisher, Publisher
from pipeline.gateway.render import language_of, page
from pipeline.gateway.texts import Texts
from pipeline.ledger.store import Ledger
from pipeline.monitor.feed import SnapshotFeed
from pipeline.runtime.kafka_io import kafka_producer

log = structlog.get_logger("hotline.gateway")
STATIC = Path(__file__).parent / "static"


class GatewayApp(FastAPI):
    docs_csp: str = CSP  # the policy of /docs, once `install_docs` knows its script's hash

    def build_middleware_stack(self) -> ASGIApp:
        # Outside Starlette's own error middleware too, so that even a 500 carries them.
        return SecurityHeaders(super().build_middleware_stack(), docs_csp=self.docs_csp)


def create_app(
    settings: Settings,
    ledger: Ledger,
    bootstrap: str,
    options: GatewayOptions | None = None,
    *,
    publisher: Publisher | None = None,
) -> FastAPI:
    """The gateway on `ledger`, publishing to the Kafka at `bootstrap` (one producer, started
    and stopped with the app), or through `publisher` when one is given (tests, embedding)."""
    gw = Gateway.create(settings, ledger, options or GatewayOptions())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            if publisher is None:
                producer = await stack.enter_async_context(kafka_producer(settings, bootstrap))
                gw.publisher = KafkaPublisher(producer)
                log.info("gateway producer started", bootstrap=bootstrap)
                # The lag monitor's rounds, for the dashboard and /metrics: one follower.
                feed = SnapshotFeed(bootstrap)
                await feed.start()
                stack.push_async_callback(feed.stop)
                gw.lag = feed
            else:
                gw.publisher = publisher
            yield

    app = GatewayApp(
        title="Hotline gateway",
        summary="Report intake, reporters' status, review, the public registry, appeals, NTD.",
        version="1",
        lifespan=lifespan,
        docs_url=None,  # ours, from our own origin (pipeline/gateway/docs.py)
        redoc_url=None,  # one documentation page is enough
    )
    app.state.gateway = gw
    app.include_router(api.router)
    app.include_router(public_pages.router)
    app.include_router(staff_pages.router)
    app.include_router(operations.router)
    app.docs_csp = docs_policy(install_docs(app).script_hashes)  # before /static: see there
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _error_pages(app)

    @app.get("/healthz", tags=["operations"], response_model=Health)
    def healthz() -> Health:
        """The process answers. (Whether cases move is the lag monitor's to say.)"""
        return Health()

    return app


def _error_pages(app: FastAPI) -> None:
    """401, 403 and every other HTTP error: JSON under /api/, a page in the reader's language
    elsewhere (a 401 page links to the login)."""

    def answer(request: Request, status_code: int, detail: str, key: str) -> Response:
        if is_api(request):
            headers = {"WWW-Authenticate": 'Bearer realm="hotline"'} if status_code == 401 else None
            return JSONResponse({"detail": detail}, status_code=status_code, headers=headers)
        language = language_of(request)
        t = Texts(language)
        link = None
        if status_code == 401:
            target = quote(request.url.path, safe="/")
            link = {"href": f"/login?next={target}&lang={language}", "text": t("nav_login")}
        return page(
            request,
            "message.html",
            language=language,
            status_code=status_code,
            title=t(key),
            message=t(key),
            code=key,
            kind="problem",
            link=link,
        )

    @app.exception_handler(NotAuthenticated)
    async def not_authenticated(request: Request, error: NotAuthenticated) -> Response:
        return answer(request, 401, "an API key is needed (X-API-Key or Bearer)", "unauthorized")

    @app.exception_handler(NotAllowed)
    async def not_allowed(request: Request, error: NotAllowed) -> Response:
        return answer(request, 403, f"not open to the role {error.role}", "forbidden")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        if is_api(request) or error.status_code != 404:
            response = JSONResponse(
                {"detail": error.detail}, status_code=error.status_code, headers=error.headers
            )
            return response
        return answer(request, 404, str(error.detail), "not_found")
