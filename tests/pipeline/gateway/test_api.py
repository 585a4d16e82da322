"""The JSON API over real HTTP, publishing into a list (no broker): intake and its refusals, rate
limits, the reporter's status, review, audit, the registry, appeals and NTD."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import orjson
import pytest
from fastapi.routing import iter_route_contexts

from pipeline.gateway.options import GatewayOptions
from pipeline.intake import Admitted, admit
from pipeline.ledger.store import LedgerMessage
from pipeline.runtime.ids import case_id_for, status_token_for
from pipeline.runtime.topics import APPEALS, INTAKE, LEDGER_CONTACTS, REVIEW_DECISIONS
from pipeline.sandbox.cases import received_envelope
from schemas import Category, Envelope, LedgerContact, ReporterContact, ReviewDecision
from schemas.ledger import Appeal, LedgerEntry, NtdReport, PublicStatus, RegistryPage
from tests.builders import SOURCE, encode, report
from tests.fixtures.gateway import (
    TOKEN_SECRET,
    Answer,
    GatewayFactory,
    RunningGateway,
    blocking_notice,
    record_registry_entry,
    record_review_case,
    review_case,
)

# ---------------------------------------------------------------- intake


def test_an_accepted_report_is_published_keyed_by_its_host(gateway: RunningGateway) -> None:
    answer = gateway.client.post(
        "/api/v1/reports",
        json=report(url="HTTPS://Best-Casino.KZ/a", category="gambling"),
        key=gateway.keys["intake"],
    )
    assert answer.status == 202, answer.text
    receipt = answer.json()
    assert gateway.published is not None
    [sent] = gateway.published.on(INTAKE)
    assert sent.key == b"best-casino.kz"
    document = sent.json()
    # The gateway gave it a submission id, so the case id is the one the stage will derive.
    assert document["submission_id"].startswith("gw-")
    assert receipt["case_id"] == case_id_for(f"submission:{document['submission_id']}")
    assert receipt["status_token"] == status_token_for(receipt["case_id"], TOKEN_SECRET)
    assert receipt["status_url"] == (
        f"{gateway.url}/status/{receipt['case_id']}?token={receipt['status_token']}"
    )
    # And the stage itself admits what was sent, as the same case.
    decision = admit(sent.value, SOURCE)
    assert isinstance(decision, Admitted) and decision.case_id == receipt["case_id"]


def test_a_senders_own_submission_id_keeps_its_case(gateway: RunningGateway) -> None:
    body = report(submission_id="partner-77")
    first = gateway.client.post("/api/v1/reports", json=body, key=gateway.keys["intake"])
    again = gateway.client.post("/api/v1/reports", json=body, key=gateway.keys["intake"])
    assert (
        first.json()["case_id"] == again.json()["case_id"] == case_id_for("submission:partner-77")
    )
    assert gateway.published is not None
    assert [p.json()["submission_id"] for p in gateway.published.on(INTAKE)] == ["partner-77"] * 2


REFUSED = [
    (b"x" * (64 * 1024 + 1), "payload_too_large"),
    (b"\xff\xfe{}", "invalid_utf8"),
    (b"{not json", "malformed_json"),
    (b"[1, 2]", "not_an_object"),
    (encode(report(url=None)), "missing_url"),
    (encode(report(url="https://example.kz/" + "a" * 2048)), "url_too_long"),
    (encode(report(url="javascript:alert(1)")), "url_scheme_not_allowed"),
    (encode(report(url="http://")), "url_invalid"),
    (encode(report(category="spam")), "unknown_category"),
    (encode(report(colour="red")), "unknown_field"),
    (encode(report(channel=None)), "missing_field"),
    (encode(report(submitted_at=12345)), "invalid_field"),
]


@pytest.mark.parametrize(("body", "reason"), REFUSED, ids=[r for _, r in REFUSED])
def test_a_refusal_has_the_received_stages_reason(
    gateway: RunningGateway, body: bytes, reason: str
) -> None:
    answer = gateway.client.post("/api/v1/reports", body=body, key=gateway.keys["intake"])
    assert answer.status == 422
    refusal = answer.json()
    stage = admit(body, SOURCE)  # what the received stage decides of these bytes
    assert not isinstance(stage, Admitted)
    assert refusal["reason"] == stage.reason.value == reason
    assert refusal["message"] == stage.message
    assert refusal["problems"] == [p.model_dump() for p in stage.problems]
    assert gateway.published is not None and gateway.published.records == []


def test_intake_is_limited_per_key(start_gateway: GatewayFactory) -> None:
    gateway = start_gateway(options=GatewayOptions(gateway_rate_per_minute=3))
    other = gateway.ledger.create_key("intake", "another intake service")
    statuses = [
        gateway.client.post("/api/v1/reports", json=report(), key=gateway.keys["intake"]).status
        for _ in range(4)
    ]
    assert statuses == [202, 202, 202, 429]
    limited = gateway.client.post("/api/v1/reports", json=report(), key=gateway.keys["intake"])
    assert limited.status == 429
    assert 1 <= int(limited.headers["retry-after"]) <= 20  # a token every 20 s at 3 a minute
    # Another key has its own bucket.
    assert gateway.client.post("/api/v1/reports", json=report(), key=other).status == 202


# ---------------------------------------------------------------- the reporter's status


def _status(gateway: RunningGateway, case_id: str, token: str | None) -> tuple[int, object]:
    query = f"?token={quote(token)}" if token is not None else ""
    answer = gateway.client.get(f"/api/v1/cases/{case_id}/status{query}")
    return answer.status, answer.json()


def test_a_case_the_ledger_has_not_seen_is_received(gateway: RunningGateway) -> None:
    case_id = "HL-AAAA-BBBB-CCCC"
    status, body = _status(gateway, case_id, status_token_for(case_id, TOKEN_SECRET))
    assert status == 200
    assert body == {
        "case_id": case_id,
        "status": "received",
        "since": None,
        "reason": None,
        "reason_code": None,
        "forwarded_to": [],
    }


def test_the_status_comes_from_the_ledger_and_shows_nothing_internal(
    gateway: RunningGateway,
) -> None:
    case_id = "HL-TEST-0002"
    case = received_envelope("http://secret-site.kz/path", "secret-site.kz", case_id)
    gateway.record("hotline.received", case)
    status, body = _status(gateway, case_id, status_token_for(case_id, TOKEN_SECRET))
    assert status == 200
    found = PublicStatus.model_validate(body)
    assert found.status == "received" and found.since is not None
    assert "secret-site" not in orjson.dumps(body).decode()


def test_a_wrong_or_missing_token_is_the_same_404_as_no_case(gateway: RunningGateway) -> None:
    case_id = "HL-TEST-0003"
    gateway.record("hotline.received", received_envelope("http://a.kz/", "a.kz", case_id))
    right = status_token_for(case_id, TOKEN_SECRET)
    nothing = _status(gateway, "HL-ZZZZ-ZZZZ-ZZZZ", "0" * len(right))
    assert nothing[0] == 404
    assert _status(gateway, case_id, "0" * len(right)) == nothing
    assert _status(gateway, case_id, None) == nothing
    assert _status(gateway, case_id, right[:-1]) == nothing
    assert _status(gateway, case_id, "ы") == nothing  # not even ASCII
    assert _status(gateway, case_id, right)[0] == 200


# ---------------------------------------------------------------- review


def test_the_review_queue_and_a_decision(gateway: RunningGateway) -> None:
    record_review_case(gateway, review_case("HL-TEST-0010"))
    reviewer = gateway.keys["reviewer"]
    queue = gateway.client.get("/api/v1/review", key=reviewer).json()
    assert [c["case_id"] for c in queue["cases"]] == ["HL-TEST-0010"]
    answer = gateway.client.post(
        "/api/v1/review/HL-TEST-0010/decisions",
        json={"verdict": "corrected", "category": "gambling", "note": "a casino mirror"},
        key=reviewer,
    )
    assert answer.status == 202, answer.text
    assert gateway.published is not None
    [sent] = gateway.published.on(REVIEW_DECISIONS)
    assert sent.key == b"HL-TEST-0010"
    decision = ReviewDecision.model_validate_json(sent.value)
    assert decision.decision_id == answer.json()["decision_id"]
    assert (decision.verdict, decision.category) == ("corrected", Category.gambling)
    assert decision.reviewer == "test-reviewer"  # the key's label, not anything the body says


def test_decisions_that_cannot_be_taken(gateway: RunningGateway) -> None:
    record_review_case(gateway, review_case("HL-TEST-0011"))
    gateway.record("hotline.received", received_envelope("http://a.kz/", "a.kz", "HL-TEST-0012"))
    reviewer = gateway.keys["reviewer"]

    def decide(case_id: str, body: dict[str, object]) -> int:
        return gateway.client.post(
            f"/api/v1/review/{case_id}/decisions", json=body, key=reviewer
        ).status

    assert decide("HL-TEST-0011", {"verdict": "corrected"}) == 422  # corrected to what?
    assert decide("HL-TEST-0011", {"verdict": "confirmed", "category": "drugs"}) == 422
    assert decide("HL-TEST-0011", {"verdict": "needs_review"}) == 422
    assert decide("HL-TEST-0011", {"verdict": "confirmed", "reviewer": "someone else"}) == 422
    assert decide("HL-TEST-0012", {"verdict": "confirmed"}) == 409  # known, not waiting
    assert decide("HL-NOPE-NOPE-NOPE", {"verdict": "confirmed"}) == 404
    assert gateway.published is not None and gateway.published.on(REVIEW_DECISIONS) == []


# ---------------------------------------------------------------- audit


def test_an_auditor_reads_a_case_and_its_history(gateway: RunningGateway) -> None:
    case_id = "HL-TEST-0020"
    gateway.record("hotline.received", received_envelope("http://a.kz/", "a.kz", case_id))
    record_review_case(gateway, review_case(case_id))
    auditor = gateway.keys["auditor"]
    state = gateway.client.get(f"/api/v1/cases/{case_id}", key=auditor)
    assert Envelope.model_validate(state.json()).stage == "categorize"
    history = gateway.client.get(f"/api/v1/cases/{case_id}/history", key=auditor).json()
    entries = [LedgerEntry.model_validate(e) for e in history]
    assert [e.stage for e in entries] == ["received", "categorize"]
    assert gateway.client.get("/api/v1/cases/HL-NONE/history", key=auditor).status == 404
    assert gateway.client.get("/api/v1/cases/HL-NONE", key=auditor).status == 404


def _record_contact(gateway: RunningGateway, person: LedgerContact) -> None:
    """As the ledger worker records what the received stage put on hotline.ledger.contacts."""
    message = LedgerMessage(
        LEDGER_CONTACTS, person.model_dump_json().encode(), person.case_id.encode()
    )
    recorded = gateway.ledger.record([message])
    assert (recorded.contacts, recorded.unreadable) == (1, [])


def _every_get(gateway: RunningGateway, case_id: str, token: str) -> list[tuple[str, Answer]]:
    """Each GET route of the app (mounts aside) for `case_id`, with the reporter's token, asked
    without a key, with each role's key and with each role's login cookie."""
    paths = sorted(
        re.sub(r"\{(\w+)\}", lambda m: case_id if m.group(1) == "case_id" else "nothing", path)
        for route in iter_route_contexts(gateway.app.routes)
        if (path := route.path) is not None and "GET" in (route.methods or ())
    )
    callers: list[tuple[str, dict[str, str]]] = [("no key", {})]
    for role, key in gateway.keys.items():
        callers += [(role, {"X-API-Key": key}), (f"{role} cookie", gateway.login_cookie(role))]
    return [
        (f"GET {path} as {who}", gateway.client.get(f"{path}?token={token}", headers=headers))
        for path in paths
        for who, headers in callers
    ]


def test_only_an_auditor_reads_the_reporters_contact(gateway: RunningGateway) -> None:
    case_id = "HL-TEST-0040"
    token = status_token_for(case_id, TOKEN_SECRET)
    gateway.record("hotline.received", received_envelope("http://a.kz/", "a.kz", case_id))
    record_review_case(gateway, review_case(case_id))
    reporter = ReporterContact(
        name="Айгерім Сапарова", email="aigerim.reporter@example.kz", phone="+7 701 555 0142"
    )
    _record_contact(
        gateway,
        LedgerContact(
            case_id=case_id,
            submission_id="partner-40",
            recorded_at=datetime(2026, 11, 20, 9, 30, tzinfo=UTC),
            contact=reporter,
            status_token_sha256=hashlib.sha256(token.encode()).hexdigest(),
        ),
    )
    path = f"/api/v1/cases/{case_id}/contact"
    auditor = gateway.keys["auditor"]
    answer = gateway.client.get(path, key=auditor)
    assert answer.status == 200, answer.text
    kept = LedgerContact.model_validate(answer.json())
    assert (kept.case_id, kept.submission_id, kept.contact) == (case_id, "partner-40", reporter)
    assert kept.erased_at is None
    for role in ("intake", "reviewer", "operator"):
        refused = gateway.client.get(path, key=gateway.keys[role])
        assert refused.status == 403, role
        assert reporter.email not in refused.text
    assert gateway.client.get(path).status == 401
    # A case without a contact (an anonymous report), or no case at all: 404.
    gateway.record("hotline.received", received_envelope("http://b.kz/", "b.kz", "HL-TEST-0041"))
    assert gateway.client.get("/api/v1/cases/HL-TEST-0041/contact", key=auditor).status == 404
    assert gateway.client.get("/api/v1/cases/HL-NONE/contact", key=auditor).status == 404

    # No other answer about the case, to anyone, carries any of it.
    answers = dict(_every_get(gateway, case_id, token))
    shown = {what for what, a in answers.items() if a.status == 200}
    assert {
        f"GET /api/v1/cases/{case_id}/status as no key",
        f"GET /status/{case_id} as no key",
        f"GET /api/v1/cases/{case_id} as auditor",
        f"GET /api/v1/cases/{case_id}/history as auditor",
        "GET /api/v1/review as reviewer",
        "GET /review as reviewer cookie",
        f"GET /review/{case_id} as reviewer cookie",
        "GET /ntd as auditor cookie",
    } <= shown  # the check below is not about error pages only
    mine = f"GET {path} as auditor"
    personal = (reporter.email, reporter.name, reporter.phone)
    leaks = {w for w, a in answers.items() if w != mine and any(p in a.text for p in personal)}
    assert leaks == set()

    # The reporter asked to be forgotten: the record stays, the contact is gone.
    assert gateway.ledger.forget(case_id) is not None
    erased = LedgerContact.model_validate(gateway.client.get(path, key=auditor).json())
    assert (erased.case_id, erased.contact) == (case_id, None)
    assert erased.erased_at is not None
    assert reporter.email not in gateway.client.get(path, key=auditor).text


# ---------------------------------------------------------------- the registry and appeals


@pytest.fixture
def registry(gateway: RunningGateway) -> dict[str, str | None]:
    """Three blocking requests: two listed, one of child-abuse material (counted only)."""
    day = datetime(2026, 11, 20, 9, tzinfo=UTC)
    return {
        "casino": record_registry_entry(
            gateway, blocking_notice("HL-REG-0001", host="best-casino.kz", issued_at=day)
        ),
        "drugs": record_registry_entry(
            gateway,
            blocking_notice(
                "HL-REG-0002", category=Category.drugs, host="zakladki.ru", issued_at=day
            ),
        ),
        "csam": record_registry_entry(
            gateway,
            blocking_notice("HL-REG-0003", category=Category.csam, host="abuse-site.example"),
        ),
    }


def _registry(gateway: RunningGateway, query: str = "") -> RegistryPage:
    answer = gateway.client.get(f"/api/v1/registry{query}")
    assert answer.status == 200, answer.text
    assert "abuse-site" not in answer.text
    return RegistryPage.model_validate(answer.json())


def test_registry_filters_and_csam_counted_never_listed(
    gateway: RunningGateway, registry: dict[str, str | None]
) -> None:
    everything = _registry(gateway)
    assert {e.domain for e in everything.entries} == {"best-casino.kz", "zakladki.ru"}
    assert (everything.total, everything.withheld_csam) == (2, 1)
    assert [e.domain for e in _registry(gateway, "?category=gambling").entries] == [
        "best-casino.kz"
    ]
    assert [e.domain for e in _registry(gateway, "?q=ZAKLAD").entries] == ["zakladki.ru"]
    assert _registry(gateway, "?status=requested").total == 2
    assert _registry(gateway, "?status=lifted").total == 0
    assert _registry(gateway, "?category=csam").entries == []
    first = _registry(gateway, "?limit=1")
    second = _registry(gateway, "?limit=1&offset=1")
    assert (len(first.entries), first.total) == (1, 2)
    assert first.entries[0].entry_id != second.entries[0].entry_id
    assert gateway.client.get("/api/v1/registry?limit=201").status == 422
    assert gateway.client.get("/api/v1/registry?status=gone").status == 422
    entry = everything.entries[0]
    one = gateway.client.get(f"/api/v1/registry/{entry.entry_id}")
    assert one.json() == entry.model_dump(mode="json")
    # The csam entry is not found, however it is asked for (its id is the notice's key).
    assert registry["csam"] is None
    assert gateway.client.get("/api/v1/registry/nk-HL-REG-0003-blocking").status == 404


def test_an_appeal_is_published_for_its_entry(
    gateway: RunningGateway, registry: dict[str, str | None]
) -> None:
    entry_id = registry["casino"]
    answer = gateway.client.post(
        f"/api/v1/registry/{entry_id}/appeals", json={"grounds": "We are a licensed operator."}
    )
    assert answer.status == 202, answer.text
    assert gateway.published is not None
    [sent] = gateway.published.on(APPEALS)
    appeal = Appeal.model_validate_json(sent.value)
    assert appeal.appeal_id == answer.json()["appeal_id"]
    assert (appeal.entry_id, appeal.case_id) == (entry_id, "HL-REG-0001")
    assert sent.key == b"HL-REG-0001"
    assert appeal.grounds == "We are a licensed operator."
    nowhere = gateway.client.post("/api/v1/registry/nope/appeals", json={"grounds": "x"})
    assert nowhere.status == 404
    csam = gateway.client.post(
        "/api/v1/registry/nk-HL-REG-0003-blocking/appeals", json={"grounds": "x"}
    )
    assert csam.status == 404
    empty = gateway.client.post(f"/api/v1/registry/{entry_id}/appeals", json={"grounds": ""})
    assert empty.status == 422
    assert len(gateway.published.on(APPEALS)) == 1


def test_appeals_are_limited_per_address(start_gateway: GatewayFactory) -> None:
    gateway = start_gateway(options=GatewayOptions(gateway_form_rate_per_minute=2))
    entry_id = record_registry_entry(gateway, blocking_notice("HL-REG-0009"))
    statuses = [
        gateway.client.post(
            f"/api/v1/registry/{entry_id}/appeals", json={"grounds": "mistake"}
        ).status
        for _ in range(3)
    ]
    assert statuses == [202, 202, 429]


# ---------------------------------------------------------------- NTD, health, headers, docs


def test_ntd_for_operators_and_auditors(gateway: RunningGateway) -> None:
    case = received_envelope("http://a.kz/", "a.kz", "HL-TEST-0030")
    gateway.record("hotline.received", case)
    since = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for role in ("operator", "auditor"):
        answer = gateway.client.get(f"/api/v1/ntd?since={since}", key=gateway.keys[role])
        assert answer.status == 200
        report_ = NtdReport.model_validate(answer.json())
        assert report_.since is not None and report_.since.isoformat().startswith(since[:16])


def test_security_headers_on_every_kind_of_answer(gateway: RunningGateway) -> None:
    for path in ("/healthz", "/report", "/api/v1/registry", "/static/hotline.css", "/nowhere",
                 "/review", "/api/v1/review", "/docs"):  # fmt: skip
        headers = gateway.client.get(path).headers
        assert headers["content-security-policy"].startswith("default-src 'self'"), path
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["referrer-policy"] == "no-referrer", path
        assert headers["x-frame-options"] == "DENY", path
    # Pages run no script; only the API documentation loads Swagger UI.
    assert "script-src" not in gateway.client.get("/report").headers["content-security-policy"]


def test_even_a_failure_carries_the_security_headers(gateway: RunningGateway) -> None:
    class Broken:
        def __getattr__(self, name: str) -> object:
            raise RuntimeError("the database is away")

    gateway.app.state.gateway.ledger = Broken()
    answer = gateway.client.get("/api/v1/registry")
    assert answer.status == 500
    assert answer.headers["content-security-policy"].startswith("default-src 'self'")
    assert answer.headers["x-frame-options"] == "DENY"
    assert "the database is away" not in answer.text


def test_health_and_the_api_documentation(gateway: RunningGateway) -> None:
    assert gateway.client.get("/healthz").json() == {"status": "ok"}
    assert gateway.client.get("/docs").status == 200
    spec = gateway.client.get("/openapi.json").json()
    body = spec["paths"]["/api/v1/reports"]["post"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    assert {"url", "category", "channel", "submitted_at"} <= set(schema["required"])
    assert "$ref" not in orjson.dumps(schema).decode()
    assert not any(path.startswith("/review") for path in spec["paths"])  # pages are not API


_LINKED = re.compile(r'<(?:script|link)\b[^>]*?\b(?:src|href)="([^"]*)"')
_INLINE = re.compile(r"<script>(.*?)</script>", re.DOTALL)
_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


def test_the_api_documentation_comes_from_our_own_origin(gateway: RunningGateway) -> None:
    docs = gateway.client.get("/docs")
    assert docs.status == 200 and docs.headers["content-type"].startswith("text/html")
    linked = _LINKED.findall(docs.text)
    assert sorted(linked) == [
        "/static/swagger/favicon.png",
        "/static/swagger/swagger-ui-bundle.js",
        "/static/swagger/swagger-ui.css",
    ]
    for url in linked:
        asset = gateway.client.get(url)
        assert asset.status == 200 and len(asset.body) > 1000, url
        # nosniff is on: a script or style sheet of another type would not run.
        assert asset.headers["content-type"].startswith(_TYPES[url[url.rindex(".") :]]), url
    assert "url: '/openapi.json'" in docs.text
    assert "validator.swagger.io" not in docs.text and "validatorUrl" in docs.text

    policy = docs.headers["content-security-policy"]
    directives = {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}
    sources = {s for values in directives.values() for s in values}
    hashes = {s for s in sources if s.startswith("'sha256-")}
    assert sources - hashes <= {"'self'", "'none'", "data:"}, policy  # no other host at all
    # The one inline script, the one that starts Swagger UI, by the hash of what was served.
    [start] = _INLINE.findall(docs.text)
    assert "SwaggerUIBundle(" in start
    digest = base64.b64encode(hashlib.sha256(start.encode()).digest()).decode()
    assert directives["script-src"] == ["'self'", f"'sha256-{digest}'"]
    assert "'self'" in directives["style-src"] and "'unsafe-inline'" not in policy
    # The other pages run no script at all.
    assert "'sha256-" not in gateway.client.get("/report").headers["content-security-policy"]
