"""The API documentation at /docs: FastAPI's Swagger UI, served from the gateway's own origin.

Swagger UI's script, style sheet and icon are the copies the `fastapi-offline` package ships
(Swagger UI 5, which reads OpenAPI 3.1), mounted at /static/swagger: /docs loads nothing from a
CDN, so it works without the internet and its policy names no other host. The page is built
once, when the app is, so the hash of its one inline script (the one that starts Swagger UI) is
known for the page's Content-Security-Policy, which allows that script and no other.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, swagger_ui_default_parameters
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_URL = "/docs"
ASSETS_URL = "/static/swagger"
ASSETS_PACKAGE = ("fastapi_offline", "static")  # swagger-ui-bundle.js, swagger-ui.css, favicon.png

_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)

SWAGGER_PARAMETERS = {
    **swagger_ui_default_parameters,
    # Swagger UI would otherwise show a badge from validator.swagger.io, sending it the
    # address of our OpenAPI document.
    "validatorUrl": None,
}


@dataclass(frozen=True)
class DocsPage:
    html: bytes
    script_hashes: tuple[str, ...]  # CSP sources, 'sha256-…' without the quotes


def script_hashes(html: str) -> tuple[str, ...]:
    """The CSP hash source of each inline `<script>` (one without attributes) of `html`."""
    return tuple(
        "sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        for body in _INLINE_SCRIPT.findall(html)
    )


def docs_page(title: str, openapi_url: str) -> DocsPage:
    response = get_swagger_ui_html(
        openapi_url=openapi_url,
        title=f"{title} - Swagger UI",
        swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
        swagger_ui_parameters=SWAGGER_PARAMETERS,
    )
    html = bytes(response.body)
    return DocsPage(html=html, script_hashes=script_hashes(html.decode()))


def install_docs(app: FastAPI) -> DocsPage:
    """Serve Swagger UI's files and the /docs page on `app` (made with `docs_url=None`); the
    page, whose script hashes the caller puts in /docs's policy. Mount it before any mount of
    /static, which would otherwise take /static/swagger/… too."""
    assert app.openapi_url is not None
    page = docs_page(app.title, app.openapi_url)
    app.mount(ASSETS_URL, StaticFiles(packages=[ASSETS_PACKAGE]), name="swagger")

    @app.get(DOCS_URL, include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(page.html)

    return page
