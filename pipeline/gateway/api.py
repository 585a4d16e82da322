"""The JSON API, `/api/v1`: intake, the reporter's status, review, the registry, appeals, NTD.

Authenticated by `X-API-Key` or `Authorization: Bearer` only (never the staff's cookie); each
route declares its roles. Reads go to the ledger from FastAPI's thread pool (plain `def`
routes), writes are records put on the topics, for the stages and the ledger to take.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from pipeline.gateway import casework
from pipeline.gateway.auth import Auditor, Intake, OperatorOrAuditor, Reviewer
from pipeline.gateway.context import Gateway, client_address, gateway
from pipeline.gateway.links import status_link
from pipeline.gateway.models import (
    AppealReceipt,
    AppealRequest,
    DecisionReceipt,
    DecisionRequest,
    IntakeReceipt,
    Problem,
    Refusal,
    ReviewQueue,
)
from pipeline.gateway.publish import Unavailable
from pipeline.gateway.ratelimit import retry_after
from pipeline.gateway.reports import Taken, take_report
from pipeline.gateway.status import status_for
from pipeline.ledger import views
from schemas import Category, Envelope, LedgerContact, Report
from schemas.ledger import LedgerEntry, NtdReport, PublicStatus, RegistryEntry, RegistryPage
from schemas.ledger import RegistryStatus as RegistryStatusCode
from schemas.report import MAX_REPORT_BYTES

router = APIRouter(prefix="/api/v1")

GatewayDep = Annotated[Gateway, Depends(gateway)]
CaseId = Annotated[str, Path(max_length=64)]
EntryId = Annotated[str, Path(max_length=200)]

Responses = dict[int | str, dict[str, Any]]
_NOT_FOUND: Responses = {404: {"model": Problem}}
_LIMITED: Responses = {429: {"model": Problem, "description": "Too many: see Retry-After."}}
_UNAVAILABLE: Responses = {503: {"model": Problem, "description": "Not taken: try again."}}


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """A model's JSON Schema with its `$defs` put in place, for an OpenAPI request body."""
    definitions = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            reference = node.get("$ref", "")
            if reference.startswith("#/$defs/"):
                return resolve(definitions[reference.removeprefix("#/$defs/")])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved


# The body is read as bytes and judged by the received stage's own code, not by FastAPI; this
# only documents it.
_REPORT_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": _inline(Report.model_json_schema())}},
    }
}


def too_many(seconds: float) -> JSONResponse:
    return JSONResponse(
        {"detail": "too many requests"},
        status_code=429,
        headers={"Retry-After": retry_after(seconds)},
    )


def unavailable(error: Unavailable) -> JSONResponse:
    return JSONResponse(
        {"detail": "the broker did not take it; try again"},
        status_code=503,
        headers={"Retry-After": "5"},
    )


async def _body(request: Request, cap: int) -> bytes:
    """At most `cap + 1` bytes of the body: enough for admission to call it too large."""
    kept = bytearray()
    async for chunk in request.stream():
        kept.extend(chunk)
        if len(kept) > cap:
            break
    return bytes(kept[: cap + 1])


@router.post(
    "/reports",
    tags=["intake"],
    status_code=202,
    response_model=IntakeReceipt,
    responses={422: {"model": Refusal}, 401: {}, 403: {}, **_LIMITED, **_UNAVAILABLE},
    openapi_extra=_REPORT_BODY,
    summary="Submit a report (an intake report as on hotline.intake)",
)
async def submit_report(request: Request, gw: GatewayDep, caller: Intake) -> Any:
    """Admitted as the received stage admits it; refused with its reason code (422), else on
    `hotline.intake` before the answer (202) gives the case id and the reporter's token. A
    report without `submission_id` gets one, so its case id is known now."""
    wait = gw.intake_limit.take(caller.key_id)
    if wait is not None:
        return too_many(wait)
    try:
        taken = await take_report(gw, await _body(request, MAX_REPORT_BYTES), "gw")
    except Unavailable as error:
        return unavailable(error)
    if not isinstance(taken, Taken):
        refusal = Refusal(reason=taken.reason, message=taken.message, problems=taken.problems)
        return JSONResponse(refusal.model_dump(mode="json"), status_code=422)
    return IntakeReceipt(
        case_id=taken.case_id,
        status_token=taken.status_token,
        status_url=status_link(request, gw, taken.case_id, taken.status_token),
    )


@router.get(
    "/cases/{case_id}/status", tags=["reporters"], response_model=PublicStatus, responses=_NOT_FOUND
)
def case_status(
    case_id: CaseId, gw: GatewayDep, token: Annotated[str | None, Query(max_length=64)] = None
) -> PublicStatus:
    """Where a case is, for the reporter holding its token. A wrong or missing token is 404,
    as for a case that does not exist."""
    found = status_for(gw.ledger, case_id, token, gw.token_secret)
    if found is None:
        raise HTTPException(404, "no such case")
    return found


@router.get("/review", tags=["review"], response_model=ReviewQueue)
def review_queue(gw: GatewayDep, caller: Reviewer) -> ReviewQueue:
    """Cases waiting for an analyst, oldest first, and appeals waiting for a decision."""
    return ReviewQueue(
        cases=views.review_queue(gw.ledger), appeals=views.pending_appeals(gw.ledger)
    )


@router.post(
    "/review/{case_id}/decisions",
    tags=["review"],
    status_code=202,
    response_model=DecisionReceipt,
    responses={**_NOT_FOUND, 409: {"model": Problem}, **_UNAVAILABLE},
)
async def decide_case(
    case_id: CaseId, body: DecisionRequest, gw: GatewayDep, caller: Reviewer
) -> Any:
    """Publish a decision on a waiting case to `hotline.review-decisions`, the key's label as
    the reviewer. The categorize stage takes the first decision and answers each on
    `hotline.review-receipts`."""
    if await run_in_threadpool(casework.waiting, gw, case_id) is None:
        known = await run_in_threadpool(views.case_state, gw.ledger, case_id)
        raise HTTPException(409 if known else 404, "the case is not waiting in review")
    try:
        made = casework.decision(case_id, body.verdict, body.category, body.note, caller.label)
    except casework.NotADecision as error:
        raise HTTPException(422, str(error)) from None
    try:
        await casework.publish_decision(gw, made)
    except Unavailable as error:
        return unavailable(error)
    return DecisionReceipt(decision_id=made.decision_id)


@router.get("/cases/{case_id}", tags=["audit"], response_model=Envelope, responses=_NOT_FOUND)
def case_state(case_id: CaseId, gw: GatewayDep, caller: Auditor) -> Envelope:
    """The case's latest stage event, with everything learned about it."""
    found = views.case_state(gw.ledger, case_id)
    if found is None:
        raise HTTPException(404, "no such case")
    return found


@router.get(
    "/cases/{case_id}/history",
    tags=["audit"],
    response_model=list[LedgerEntry],
    responses=_NOT_FOUND,
)
def case_history(case_id: CaseId, gw: GatewayDep, caller: Auditor) -> list[LedgerEntry]:
    """Every event of the case in its order, each chained to the one before by its hash."""
    entries = views.timeline(gw.ledger, case_id)
    if not entries:
        raise HTTPException(404, "no such case")
    return entries


@router.get(
    "/cases/{case_id}/contact",
    tags=["audit"],
    response_model=LedgerContact,
    responses=_NOT_FOUND,
)
def case_contact(case_id: CaseId, gw: GatewayDep, caller: Auditor) -> LedgerContact:
    """The reporter's contact, as the ledger keeps it: personal data, for auditors alone and
    shown by no other route. After an erasure, `contact` is null and `erased_at` says when;
    404 when the reporter left none (an anonymous report) or the case is unknown."""
    found = gw.ledger.contact(case_id)
    if found is None:
        raise HTTPException(404, "no contact for this case")
    return found


@router.get("/registry", tags=["registry"], response_model=RegistryPage)
def registry(
    gw: GatewayDep,
    category: Category | None = None,
    status: RegistryStatusCode | None = None,
    q: Annotated[str | None, Query(max_length=253, description="Part of a domain.")] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> RegistryPage:
    """Resources under a restriction or a blocking request. Child-abuse entries are counted
    (`withheld_csam`) and never listed."""
    return views.registry(
        gw.ledger, category=category, status=status, search=q or None, offset=offset, limit=limit
    )


@router.get(
    "/registry/{entry_id}", tags=["registry"], response_model=RegistryEntry, responses=_NOT_FOUND
)
def registry_entry(entry_id: EntryId, gw: GatewayDep) -> RegistryEntry:
    found = casework.listed_entry(gw, entry_id)
    if found is None:
        raise HTTPException(404, "no such entry")
    return found


@router.post(
    "/registry/{entry_id}/appeals",
    tags=["registry"],
    status_code=202,
    response_model=AppealReceipt,
    responses={**_NOT_FOUND, **_LIMITED, **_UNAVAILABLE},
)
async def appeal(entry_id: EntryId, body: AppealRequest, request: Request, gw: GatewayDep) -> Any:
    """Contest a registry entry; a reviewer upholds or lifts it. On `hotline.appeals`."""
    wait = gw.appeal_limit.take(client_address(request))
    if wait is not None:
        return too_many(wait)
    entry = await run_in_threadpool(casework.listed_entry, gw, entry_id)
    if entry is None:
        raise HTTPException(404, "no such entry")
    made = casework.new_appeal(entry, body.grounds)
    try:
        await casework.publish_appeal(gw, made)
    except Unavailable as error:
        return unavailable(error)
    return AppealReceipt(appeal_id=made.appeal_id)


@router.get("/ntd", tags=["operations"], response_model=NtdReport)
def ntd(
    gw: GatewayDep,
    caller: OperatorOrAuditor,
    since: Annotated[datetime | None, Query(description="Cases reported since (UTC).")] = None,
) -> NtdReport:
    """Notice-and-takedown times per category: report to verification, dispatch, delivery
    and confirmation."""
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return views.ntd(gw.ledger, since)
