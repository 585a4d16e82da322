"""Every route of the gateway, by the table of who may call it: a route missing from the table
fails the test, so none can be added without saying who it is for."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

from schemas.ledger import ROLES, Role
from tests.fixtures.gateway import Answer, Client, RunningGateway

PUBLIC: frozenset[Role] = frozenset()  # no key needed
INTAKE: frozenset[Role] = frozenset({"intake"})
REVIEWER: frozenset[Role] = frozenset({"reviewer"})
AUDITOR: frozenset[Role] = frozenset({"auditor"})
OPERATIONS: frozenset[Role] = frozenset({"operator", "auditor"})
OPERATOR: frozenset[Role] = frozenset({"operator"})

ROUTES: dict[tuple[str, str], frozenset[Role]] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/static"): PUBLIC,
    ("GET", "/static/swagger"): PUBLIC,  # Swagger UI's own files, for /docs
    # intake and reporters
    ("POST", "/api/v1/reports"): INTAKE,
    ("GET", "/api/v1/cases/{case_id}/status"): PUBLIC,
    ("GET", "/"): PUBLIC,
    ("GET", "/report"): PUBLIC,
    ("POST", "/report"): PUBLIC,
    ("GET", "/status"): PUBLIC,
    ("GET", "/status/{case_id}"): PUBLIC,
    # review
    ("GET", "/api/v1/review"): REVIEWER,
    ("POST", "/api/v1/review/{case_id}/decisions"): REVIEWER,
    ("GET", "/review"): REVIEWER,
    ("GET", "/review/{case_id}"): REVIEWER,
    ("GET", "/review/{case_id}/screenshot"): REVIEWER,
    ("GET", "/review/{case_id}/evidence"): REVIEWER,
    ("POST", "/review/{case_id}/decision"): REVIEWER,
    ("GET", "/review/appeals/{appeal_id}"): REVIEWER,
    ("POST", "/review/appeals/{appeal_id}"): REVIEWER,
    # audit
    ("GET", "/api/v1/cases/{case_id}"): AUDITOR,
    ("GET", "/api/v1/cases/{case_id}/history"): AUDITOR,
    ("GET", "/api/v1/cases/{case_id}/contact"): AUDITOR,  # the reporter's personal data
    # the registry and appeals
    ("GET", "/api/v1/registry"): PUBLIC,
    ("GET", "/api/v1/registry/{entry_id}"): PUBLIC,
    ("POST", "/api/v1/registry/{entry_id}/appeals"): PUBLIC,
    ("GET", "/registry"): PUBLIC,
    ("GET", "/registry/{entry_id}/appeal"): PUBLIC,
    ("POST", "/registry/{entry_id}/appeal"): PUBLIC,
    # operations
    ("GET", "/api/v1/ntd"): OPERATIONS,
    ("GET", "/ntd"): OPERATIONS,
    ("GET", "/dashboard"): OPERATOR,
    ("GET", "/dashboard/data.json"): OPERATOR,
    ("GET", "/api/v1/lag"): OPERATOR,
    ("GET", "/metrics"): OPERATOR,
    # staff login
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): PUBLIC,
}

MOUNTS = {"/static": "/static/hotline.css", "/static/swagger": "/static/swagger/swagger-ui.css"}
SAMPLE = {"case_id": "HL-TEST-0001", "entry_id": "no-such-entry", "appeal_id": "AP-NONE"}


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route, those of included routers and mounts too; HEAD, which
    answers as GET does, left out."""
    found = set()
    for route in iter_route_contexts(app.routes):
        assert route.path is not None
        for method in route.methods or {"GET"}:  # a mount (static files) answers GET
            if method != "HEAD":
                found.add((method, route.path))
    return found


def concrete(path: str) -> str:
    path = MOUNTS.get(path, path)
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLE[m.group(1)], path)


def call(client: Client, method: str, path: str, headers: dict[str, str]) -> Answer:
    body = b"{}" if method == "POST" and path.startswith("/api/") else None
    return client.request(method, concrete(path), headers=headers, body=body)


def test_the_table_names_every_route(gateway: RunningGateway) -> None:
    routes = app_routes(gateway.app)
    assert routes - ROUTES.keys() == set(), "routes without a row in the table: add them"
    assert ROUTES.keys() - routes == set(), "rows of routes the app does not have"


def test_each_route_answers_only_its_roles(gateway: RunningGateway) -> None:
    client = gateway.client
    wrong: list[str] = []
    for (method, path), roles in sorted(ROUTES.items()):
        what = f"{method} {path}"
        if not roles:
            answer = call(client, method, path, {})
            if answer.status in (401, 403):
                wrong.append(f"{what}: public, answered {answer.status} without a key")
            continue
        for headers, case in (({}, "no key"), ({"X-API-Key": "hk_unknown"}, "an unknown key")):
            answer = call(client, method, path, headers)
            if answer.status != 401:
                wrong.append(f"{what}: {case} answered {answer.status}, not 401")
        for role in ROLES:
            answer = call(client, method, path, {"X-API-Key": gateway.keys[role]})
            if role in roles and answer.status in (401, 403):
                wrong.append(f"{what}: its role {role} answered {answer.status}")
            if role not in roles and answer.status != 403:
                wrong.append(f"{what}: role {role} answered {answer.status}, not 403")
    assert wrong == []


def test_a_bearer_token_is_a_key_too(gateway: RunningGateway) -> None:
    bearer = {"Authorization": f"Bearer {gateway.keys['reviewer']}"}
    assert gateway.client.get("/api/v1/review", headers=bearer).status == 200
    wrong = {"Authorization": f"Bearer {gateway.keys['intake']}"}
    assert gateway.client.get("/api/v1/review", headers=wrong).status == 403


def test_the_login_cookie_opens_pages_but_not_the_api(gateway: RunningGateway) -> None:
    cookie = gateway.login_cookie("reviewer")
    assert gateway.client.get("/review", headers=cookie).status == 200
    # A browser sends cookies with requests other sites make it send; the API takes headers.
    assert gateway.client.get("/api/v1/review", headers=cookie).status == 401


def test_a_401_page_links_to_the_login(gateway: RunningGateway) -> None:
    answer = gateway.client.get("/review?lang=en")
    assert answer.status == 401
    assert 'href="/login?next=/review&amp;lang=en"' in answer.text
    api = gateway.client.get("/api/v1/review")
    assert api.status == 401 and api.json() == {"detail": api.json()["detail"]}
    assert api.headers["www-authenticate"].startswith("Bearer")
