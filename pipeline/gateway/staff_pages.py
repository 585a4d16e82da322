"""The staff's pages: the analysts' review queue, a case with its evidence and the decision
form, appeals to decide, and the notice-and-takedown times for operators and auditors.

Reviewers log in with their key (the cookie); what they decide is published with the key's
label as the reviewer, for the categorize stage (cases) or the ledger (appeals) to take.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from pipeline.gateway import casework, evidence
from pipeline.gateway.auth import Caller, OperatorOrAuditor, Reviewer
from pipeline.gateway.context import Gateway, gateway
from pipeline.gateway.headers import CSP
from pipeline.gateway.publish import Unavailable
from pipeline.gateway.render import form_language, language_of, page
from pipeline.gateway.texts import Language, Texts
from pipeline.ledger import views
from schemas import Category, Envelope

router = APIRouter(include_in_schema=False)

GatewayDep = Annotated[Gateway, Depends(gateway)]
Field = Annotated[str, Form()]
NTD_STEPS = ("to_verification", "to_dispatch", "to_delivery", "to_confirmation")


def _message(
    request: Request,
    caller: Caller,
    language: Language,
    status_code: int,
    key: str,
    link: dict[str, str] | None = None,
    **values: object,
) -> HTMLResponse:
    t = Texts(language)
    return page(
        request,
        "message.html",
        language=language,
        status_code=status_code,
        caller=caller,
        title=t("section_decide") if status_code < 400 else t(key, **values),
        message=t(key, **values),
        code=key,
        link=link or {"href": f"/review?lang={language}", "text": t("back_to_queue")},
    )


# ---------------------------------------------------------------- the queue and a case


@router.get("/review", response_class=HTMLResponse)
def queue_page(request: Request, gw: GatewayDep, caller: Reviewer) -> HTMLResponse:
    return page(
        request,
        "review_queue.html",
        caller=caller,
        items=views.review_queue(gw.ledger),
        appeals=views.pending_appeals(gw.ledger),
    )


def _case(gw: Gateway, case_id: str) -> tuple[Envelope | None, bool]:
    """The case as the reviewer sees it (the event that sent it to review while it waits),
    and whether it waits."""
    if len(case_id) > 64:
        return None, False
    item = casework.waiting(gw, case_id)
    if item is not None:
        return item.envelope, True
    return views.case_state(gw.ledger, case_id), False


def _case_page(
    request: Request,
    gw: Gateway,
    caller: Caller,
    case_id: str,
    language: Language,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    envelope, waits = _case(gw, case_id)
    if envelope is None:
        return _message(request, caller, language, 404, "not_found")
    return page(
        request,
        "review_case.html",
        language=language,
        status_code=status_code,
        caller=caller,
        form=f"decide:{case_id}",
        envelope=envelope,
        waiting=waits,
        error=error,
    )


@router.get("/review/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, case_id: str, gw: GatewayDep, caller: Reviewer) -> HTMLResponse:
    return _case_page(request, gw, caller, case_id, language_of(request))


def _stored(gw: Gateway, case_id: str, which: str) -> tuple[bytes, str] | None:
    envelope, _ = _case(gw, case_id)
    stored = evidence.recorded(envelope, which) if envelope else None
    data = evidence.read(gw.settings.evidence_root(), stored) if stored else None
    return (data, stored.mime) if data is not None and stored else None


@router.get("/review/{case_id}/screenshot")
def screenshot(case_id: str, gw: GatewayDep, caller: Reviewer) -> Response:
    """The case's own screenshot (a PNG rendered by content-check); none when withheld."""
    found = _stored(gw, case_id, "screenshot")
    if found is None or found[1] != "image/png":
        return Response("no screenshot", status_code=404, media_type="text/plain")
    return Response(found[0], media_type="image/png")


@router.get("/review/{case_id}/evidence")
def evidence_download(case_id: str, gw: GatewayDep, caller: Reviewer) -> Response:
    """The content as fetched, as a download: a hostile page must never run on our origin."""
    found = _stored(gw, case_id, "evidence")
    if found is None:
        return Response("no evidence", status_code=404, media_type="text/plain")
    name = f"{case_id}-evidence.bin".replace('"', "")
    return Response(
        found[0],
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Content-Security-Policy": f"{CSP}; sandbox",
        },
    )


@router.post("/review/{case_id}/decision", response_class=HTMLResponse)
async def decision_post(
    request: Request,
    case_id: str,
    gw: GatewayDep,
    caller: Reviewer,
    verdict: Field = "",
    category: Field = "",
    note: Field = "",
    nonce: Field = "",
    csrf: Field = "",
    lang: Field = "",
) -> HTMLResponse:
    language = form_language(request, lang)
    t = Texts(language)

    async def again(key: str, status_code: int) -> HTMLResponse:
        return await run_in_threadpool(
            _case_page, request, gw, caller, case_id, language, t(key), status_code
        )

    if not gw.forms.valid(f"decide:{case_id}", nonce, csrf):
        return await again("form_expired", 400)
    if await run_in_threadpool(casework.waiting, gw, case_id) is None:
        return await again("not_in_review", 409)
    if verdict not in ("confirmed", "corrected", "not_illegal") or len(note) > 5000:
        return await again("not_a_decision", 422)
    # The category list is on the form whatever the verdict: it counts with `corrected` only.
    chosen = None
    if verdict == "corrected":
        try:
            chosen = Category(category)
        except ValueError:
            return await again("category_for_correction", 422)
    made = casework.decision(case_id, verdict, chosen, note.strip(), caller.label)
    try:
        await casework.publish_decision(gw, made)
    except Unavailable:
        return await again("unavailable", 503)
    return _message(request, caller, language, 202, "decision_sent", decision_id=made.decision_id)


# ---------------------------------------------------------------- appeals


def _appeal_page(
    request: Request,
    gw: Gateway,
    caller: Caller,
    appeal_id: str,
    language: Language,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    pending = casework.pending_appeal(gw, appeal_id)
    if pending is None:
        return _message(request, caller, language, 404, "appeal_not_pending")
    return page(
        request,
        "review_appeal.html",
        language=language,
        status_code=status_code,
        caller=caller,
        form=f"appeal-decision:{appeal_id}",
        pending=pending,
        error=error,
    )


@router.get("/review/appeals/{appeal_id}", response_class=HTMLResponse)
def appeal_page(request: Request, appeal_id: str, gw: GatewayDep, caller: Reviewer) -> HTMLResponse:
    return _appeal_page(request, gw, caller, appeal_id, language_of(request))


@router.post("/review/appeals/{appeal_id}", response_class=HTMLResponse)
async def appeal_post(
    request: Request,
    appeal_id: str,
    gw: GatewayDep,
    caller: Reviewer,
    outcome: Field = "",
    reason: Field = "",
    nonce: Field = "",
    csrf: Field = "",
    lang: Field = "",
) -> HTMLResponse:
    language = form_language(request, lang)
    t = Texts(language)

    async def again(key: str, status_code: int) -> HTMLResponse:
        return await run_in_threadpool(
            _appeal_page, request, gw, caller, appeal_id, language, t(key), status_code
        )

    if not gw.forms.valid(f"appeal-decision:{appeal_id}", nonce, csrf):
        return await again("form_expired", 400)
    pending = await run_in_threadpool(casework.pending_appeal, gw, appeal_id)
    if pending is None:
        return _message(request, caller, language, 404, "appeal_not_pending")
    words = reason.strip()
    if outcome not in ("upheld", "lifted") or not 1 <= len(words) <= 5000:
        return await again("appeal_grounds_missing", 422)
    made = casework.appeal_decision(
        pending, "upheld" if outcome == "upheld" else "lifted", words, caller.label
    )
    try:
        await casework.publish_appeal(gw, made)
    except Unavailable:
        return await again("unavailable", 503)
    return _message(request, caller, language, 202, "appeal_decision_sent")


# ---------------------------------------------------------------- notice-and-takedown times


def _date(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC) if value else None
    except ValueError:
        return None


@router.get("/ntd", response_class=HTMLResponse)
def ntd_page(
    request: Request,
    gw: GatewayDep,
    caller: OperatorOrAuditor,
    since: str = "",
) -> HTMLResponse:
    start = _date(since)
    return page(
        request,
        "ntd.html",
        caller=caller,
        report=views.ntd(gw.ledger, start),
        since=start.date().isoformat() if start else "",
        steps=NTD_STEPS,
    )
