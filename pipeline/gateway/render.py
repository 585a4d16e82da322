"""HTML pages: Jinja2 templates, autoescaped, in the reader's language.

Everything a page shows that came from outside (a reported URL, page text, a reviewer's note)
is escaped by Jinja2's autoescape; no template marks anything safe. Reported URLs are shown as
text, never as links: a reviewer must not open them by a slip of the mouse.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

from pipeline.gateway.auth import Caller
from pipeline.gateway.context import gateway
from pipeline.gateway.texts import LANGUAGE_NAMES, LANGUAGES, Language, Texts, pick_language
from schemas import Category
from schemas.ledger import RegistryStatus

_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("pipeline.gateway", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,  # a misspelt name fails the test, not the page silently
    trim_blocks=True,
    lstrip_blocks=True,
)
REGISTRY_STATUSES: tuple[RegistryStatus, ...] = (
    "requested",
    "restricted",
    "under_appeal",
    "upheld",
    "lifted",
)


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""


def _seconds(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


_ENVIRONMENT.filters["when"] = _when
_ENVIRONMENT.filters["seconds"] = _seconds


def language_of(request: Request) -> Language:
    return pick_language(request.query_params.get("lang"), request.headers.get("accept-language"))


def form_language(request: Request, lang: str) -> Language:
    """The language of a posted form: its `lang` field, else the browser's."""
    return pick_language(lang, request.headers.get("accept-language"))


def _switcher(request: Request, current: Language) -> list[dict[str, Any]]:
    """The page itself in each language: its path and query, `lang` replaced."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    return [
        {
            "code": language,
            "name": LANGUAGE_NAMES[language],
            "href": f"{request.url.path}?{urlencode([*query, ('lang', language)])}",
            "current": language == current,
        }
        for language in LANGUAGES
    ]


def page(
    request: Request,
    template: str,
    *,
    language: Language | None = None,
    status_code: int = 200,
    caller: Caller | None = None,
    form: str | None = None,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """Render `template`; `form` names the form whose token the page carries."""
    chosen = language or language_of(request)
    token = gateway(request).forms.issue(form) if form else None
    html = _ENVIRONMENT.get_template(template).render(
        t=Texts(chosen),
        lang=chosen,
        languages=_switcher(request, chosen),
        caller=caller,
        form_token=token,
        categories=list(Category),
        registry_statuses=REGISTRY_STATUSES,
        **context,
    )
    return HTMLResponse(html, status_code=status_code, headers=headers)
