"""The public's pages, in Kazakh, Russian and English: the report form, the status of a report,
the registry of restricted resources and its appeals, and the staff's login.

No page shows anything of a reporter but their own case id and token, and only to them.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from pipeline.gateway import casework
from pipeline.gateway.auth import COOKIE, caller_of
from pipeline.gateway.context import Gateway, client_address, gateway
from pipeline.gateway.links import status_path
from pipeline.gateway.publish import Unavailable
from pipeline.gateway.ratelimit import retry_after
from pipeline.gateway.render import REGISTRY_STATUSES, form_language, language_of, page
from pipeline.gateway.reports import Taken, form_report, take_report
from pipeline.gateway.status import status_for
from pipeline.gateway.texts import Language, Texts
from pipeline.intake import Refused
from pipeline.ledger import views
from schemas import Category
from schemas.ledger import RegistryEntry, RegistryStatus

router = APIRouter(include_in_schema=False)  # pages, not API: /docs lists /api/v1

GatewayDep = Annotated[Gateway, Depends(gateway)]
Field = Annotated[str, Form()]
PAGE_SIZE = 50

# Where a refusal's field is on the form, to name it in the reader's words.
_FORM_FIELDS = {
    "url": "field_url",
    "category": "field_category",
    "description": "field_description",
    "contact.name": "field_name",
    "contact.email": "field_email",
}
# Refusals a form cannot cause (it always sends one JSON object of known fields).
_UNREADABLE = {"invalid_utf8", "malformed_json", "not_an_object", "unknown_field"}


def refusal_text(t: Texts, refused: Refused) -> str:
    """The received stage's reason, in the reader's words."""
    reason = refused.reason.value
    if reason in _UNREADABLE:
        return t("refused_unreadable")
    if reason in ("missing_field", "invalid_field"):
        field = next((p.field for p in refused.problems if p.code == reason), "")
        return t(
            f"refused_{reason}", field=t(_FORM_FIELDS[field]) if field in _FORM_FIELDS else field
        )
    return t(f"refused_{reason}")


# ---------------------------------------------------------------- report form


def _report_form(
    request: Request,
    language: Language,
    values: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    empty = dict.fromkeys(("url", "category", "description", "name", "email"), "")
    return page(
        request,
        "report.html",
        language=language,
        status_code=status_code,
        headers=headers,
        form="report",
        values=values or empty,
        error=error,
    )


@router.get("/", response_class=HTMLResponse)
@router.get("/report", response_class=HTMLResponse)
def report_page(request: Request) -> HTMLResponse:
    return _report_form(request, language_of(request))


@router.post("/report", response_class=HTMLResponse)
async def report_post(
    request: Request,
    gw: GatewayDep,
    url: Field = "",
    category: Field = "",
    description: Field = "",
    name: Field = "",
    email: Field = "",
    nonce: Field = "",
    csrf: Field = "",
    lang: Field = "",
) -> HTMLResponse:
    language = form_language(request, lang)
    t = Texts(language)
    values = {
        "url": url,
        "category": category,
        "description": description,
        "name": name,
        "email": email,
    }
    wait = gw.report_form_limit.take(client_address(request))
    if wait is not None:
        after = retry_after(wait)
        message = t("too_many", seconds=after)
        return _report_form(request, language, values, message, 429, {"Retry-After": after})
    if not gw.forms.valid("report", nonce, csrf):
        return _report_form(request, language, values, t("form_expired"), 400)
    raw = form_report(**values, language=language)
    try:
        taken = await take_report(gw, raw, "web")
    except Unavailable:
        return _report_form(request, language, values, t("unavailable"), 503)
    if not isinstance(taken, Taken):
        return _report_form(request, language, values, refusal_text(t, taken), 422)
    return page(
        request,
        "receipt.html",
        language=language,
        case_id=taken.case_id,
        status_token=taken.status_token,
        status_href=status_path(taken.case_id, taken.status_token, language),
    )


# ---------------------------------------------------------------- status


@router.get("/status", response_class=HTMLResponse)
def status_lookup(request: Request, case_id: str = "", token: str = "") -> Response:
    language = language_of(request)
    case_id = case_id.strip().upper()
    if case_id and token.strip():
        return RedirectResponse(status_path(case_id, token.strip(), language), status_code=303)
    return page(request, "status_form.html", language=language, case_id=case_id, error=None)


@router.get("/status/{case_id}", response_class=HTMLResponse)
def status_page(request: Request, case_id: str, gw: GatewayDep, token: str = "") -> HTMLResponse:
    language = language_of(request)
    found = None
    if len(case_id) <= 64 and len(token) <= 64:
        found = status_for(gw.ledger, case_id, token, gw.token_secret)
    if found is None:
        # The same answer for a wrong token and for a case that never was.
        return page(
            request,
            "status_form.html",
            language=language,
            status_code=404,
            case_id=case_id[:64],
            error=Texts(language)("status_not_found"),
        )
    return page(request, "status.html", language=language, status=found)


# ---------------------------------------------------------------- registry and appeals


def _category(value: str) -> Category | None:
    try:
        return Category(value) if value else None
    except ValueError:
        return None


def _registry_status(value: str) -> RegistryStatus | None:
    return next((s for s in REGISTRY_STATUSES if s == value), None)


def _number(value: str, default: int, low: int, high: int) -> int:
    try:
        return min(max(int(value), low), high)
    except ValueError:
        return default


@router.get("/registry", response_class=HTMLResponse)
def registry_page(
    request: Request,
    gw: GatewayDep,
    category: str = "",
    status: str = "",
    q: str = "",
    offset: str = "0",
    limit: str = str(PAGE_SIZE),
) -> HTMLResponse:
    # Lenient, unlike the API: a hand-edited query shows the registry, not a 422.
    chosen = _category(category)
    state = _registry_status(status)
    search = q.strip()[:253]
    start = _number(offset, 0, 0, 10**9)
    size = _number(limit, PAGE_SIZE, 1, 200)
    found = views.registry(
        gw.ledger, category=chosen, status=state, search=search or None, offset=start, limit=size
    )
    language = language_of(request)

    def at(position: int) -> str:
        query = {
            "category": chosen.value if chosen else "",
            "status": state or "",
            "q": search,
            "offset": str(position),
            "limit": str(size),
            "lang": language,
        }
        return "/registry?" + urlencode([(k, v) for k, v in query.items() if v])

    return page(
        request,
        "registry.html",
        language=language,
        registry=found,
        filters={"category": chosen.value if chosen else "", "status": state or "", "q": search},
        previous_href=at(max(start - size, 0)) if start > 0 else None,
        next_href=at(start + size) if start + size < found.total else None,
    )


def _appeal_form(
    request: Request,
    language: Language,
    entry: RegistryEntry,
    grounds: str = "",
    error: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    return page(
        request,
        "appeal.html",
        language=language,
        status_code=status_code,
        headers=headers,
        form=f"appeal:{entry.entry_id}",
        entry=entry,
        grounds=grounds,
        error=error,
    )


def _not_found(request: Request, language: Language) -> HTMLResponse:
    t = Texts(language)
    return page(
        request,
        "message.html",
        language=language,
        status_code=404,
        title=t("not_found"),
        message=t("not_found"),
        link=None,
    )


@router.get("/registry/{entry_id}/appeal", response_class=HTMLResponse)
def appeal_page(request: Request, entry_id: str, gw: GatewayDep) -> HTMLResponse:
    language = language_of(request)
    entry = casework.listed_entry(gw, entry_id) if len(entry_id) <= 200 else None
    if entry is None:
        return _not_found(request, language)
    return _appeal_form(request, language, entry)


@router.post("/registry/{entry_id}/appeal", response_class=HTMLResponse)
async def appeal_post(
    request: Request,
    entry_id: str,
    gw: GatewayDep,
    grounds: Field = "",
    nonce: Field = "",
    csrf: Field = "",
    lang: Field = "",
) -> HTMLResponse:
    language = form_language(request, lang)
    t = Texts(language)
    entry = None
    if len(entry_id) <= 200:
        entry = await run_in_threadpool(casework.listed_entry, gw, entry_id)
    if entry is None:
        return _not_found(request, language)
    wait = gw.appeal_limit.take(client_address(request))
    if wait is not None:
        after = retry_after(wait)
        message = t("too_many", seconds=after)
        return _appeal_form(request, language, entry, grounds, message, 429, {"Retry-After": after})
    if not gw.forms.valid(f"appeal:{entry.entry_id}", nonce, csrf):
        return _appeal_form(request, language, entry, grounds, t("form_expired"), 400)
    words = grounds.strip()
    if not 1 <= len(words) <= 5000:
        return _appeal_form(request, language, entry, grounds, t("appeal_grounds_missing"), 422)
    made = casework.new_appeal(entry, words)
    try:
        await casework.publish_appeal(gw, made)
    except Unavailable:
        return _appeal_form(request, language, entry, grounds, t("unavailable"), 503)
    return page(
        request,
        "message.html",
        language=language,
        status_code=202,
        title=t("appeal_title"),
        message=t("appeal_received", appeal_id=made.appeal_id),
        code="appeal_received",
        link={"href": f"/registry?lang={language}", "text": t("nav_registry")},
    )


# ---------------------------------------------------------------- login


def _safe_next(target: str) -> str | None:
    """Only a path of ours: never another site (`//evil`, `/\\evil`, `https://…`)."""
    if target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return None


_HOME = {"reviewer": "/review", "operator": "/ntd", "auditor": "/ntd", "intake": "/docs"}


def _login_form(
    request: Request, language: Language, next_path: str, error: str | None, status_code: int
) -> HTMLResponse:
    return page(
        request,
        "login.html",
        language=language,
        status_code=status_code,
        form="login",
        next=next_path,
        error=error,
    )


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "") -> HTMLResponse:
    return _login_form(request, language_of(request), _safe_next(next) or "", None, 200)


@router.post("/login", response_class=HTMLResponse)
def login_post(
    request: Request,
    gw: GatewayDep,
    key: Field = "",
    next: Field = "",
    nonce: Field = "",
    csrf: Field = "",
    lang: Field = "",
) -> Response:
    language = form_language(request, lang)
    t = Texts(language)
    target = _safe_next(next)
    wait = gw.login_limit.take(client_address(request))
    if wait is not None:
        message = t("too_many", seconds=retry_after(wait))
        return _login_form(request, language, target or "", message, 429)
    if not gw.forms.valid("login", nonce, csrf):
        return _login_form(request, language, target or "", t("form_expired"), 400)
    caller = caller_of(request, key.strip())
    if caller is None:
        return _login_form(request, language, target or "", t("login_wrong"), 401)
    answer = RedirectResponse(target or f"{_HOME[caller.role]}?lang={language}", status_code=303)
    answer.set_cookie(
        COOKIE,
        key.strip(),
        httponly=True,  # no script of any page can read it
        samesite="strict",  # no other site's page can make the browser send it
        secure=request.url.scheme == "https",
        path="/",
    )
    return answer


@router.post("/logout")
def logout() -> Response:
    answer = RedirectResponse("/", status_code=303)
    answer.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return answer
