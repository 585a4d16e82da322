"""url-verify's decision: which link checks go on, and the reason a case ends."""

from __future__ import annotations

import pytest

from agents.url_verify import SPEC, LinkAnswer, url_facts, verdict
from pipeline.config import Settings
from pipeline.lookups.dns import Resolution
from pipeline.lookups.links import LinkCheck
from pipeline.runtime.harness import run_through
from pipeline.sandbox import Sandbox
from pipeline.sandbox.cases import received_envelope, sandbox_cases
from schemas import Category, DeadLetter, Envelope, Outcome, RedirectHop

URL = "http://site.kz/page"


def answered(status: int, **extra: object) -> LinkCheck:
    return LinkCheck(URL, final_url=URL, status=status, method="HEAD", **extra)  # type: ignore[arg-type]


@pytest.mark.parametrize("status", [200, 204, 206, 401, 403])
def test_a_site_that_answers_goes_on(status: int) -> None:
    assert verdict(answered(status)) == (Outcome.continue_, None)


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (404, "not_found"),
        (410, "gone"),
        (400, "refused"),
        (451, "refused"),
        (500, "unreachable"),
        (503, "unreachable"),
        (429, "unreachable"),
    ],
)
def test_status_codes_that_end_the_case(status: int, reason: str) -> None:
    assert verdict(answered(status)) == (Outcome.terminated, reason)


@pytest.mark.parametrize(
    ("problem", "reason"),
    [
        ("dns_nxdomain", "does_not_resolve"),
        ("dns_no_address", "no_address"),
        ("dns_timeout", "unreachable"),
        ("forbidden_address", "forbidden_address"),
        ("scheme_not_allowed", "scheme_not_allowed"),
        ("too_many_redirects", "too_many_redirects"),
        ("timeout", "unreachable"),
        ("connect", "unreachable"),
    ],
)
def test_problems_that_end_the_case(problem: str, reason: str) -> None:
    assert verdict(LinkCheck(URL, problem=problem)) == (Outcome.terminated, reason)


def test_transient_failures_are_marked_for_retry() -> None:
    assert answered(503).transient and answered(429).transient
    assert LinkCheck(URL, problem="timeout").transient
    assert LinkCheck(URL, problem="dns_timeout").transient
    assert not answered(404).transient
    assert not LinkCheck(URL, problem="forbidden_address").transient


def test_facts_carry_the_resolution_redirects_and_a_reporter_message() -> None:
    resolution = Resolution("site.kz", ("127.1.0.10",), ("www.site.kz",), None, 1.5)
    hop = RedirectHop(url="http://site.kz/", status=301, location=URL)
    check = LinkCheck(
        "http://site.kz/",
        final_url=URL,
        status=404,
        method="GET",
        redirects=(hop,),
        resolution=resolution,
        http_ms=3.0,
    )
    facts = url_facts(check, attempts=1, host="site.kz", reason=LinkAnswer.not_found)
    assert facts.addresses == ["127.1.0.10"] and facts.cname_chain == ["www.site.kz"]
    assert facts.redirects == [hop] and facts.final_url == URL and facts.method == "GET"
    assert facts.error is not None and facts.error.startswith(LinkAnswer.not_found.sentence)


# ---------------------------------------------------------------- the stage, in the harness


def verified(sandbox: Sandbox, settings: Settings, *links: tuple[str, str]) -> list[Envelope]:
    cases = sandbox_cases(sandbox.url, [(h, p, Category.other) for h, p in links], "HL-UV")
    return [Envelope.model_validate_json(o.value) for o in run_through(SPEC, cases, settings)]


def test_the_stage_checks_links_against_the_sandbox(
    sandbox: Sandbox, sandbox_settings: Settings
) -> None:
    ok, missing, private = verified(
        sandbox,
        sandbox_settings,
        ("kazinfo-news.kz", "/"),
        ("sample-site.com", "/status/404"),
        ("sample-site.com", "/redirect/private"),
    )
    assert (ok.outcome, ok.case.url and ok.case.url.status) == (Outcome.continue_, 200)
    assert (missing.outcome, missing.reason) == (Outcome.terminated, "not_found")
    assert (private.outcome, private.reason) == (Outcome.terminated, "forbidden_address")


def test_a_cname_loop_ends_the_case_with_its_reason(
    sandbox: Sandbox, sandbox_settings: Settings
) -> None:
    (looped,) = verified(sandbox, sandbox_settings, ("loop-a.kz", "/"))
    assert (looped.outcome, looped.reason) == (Outcome.terminated, "cname_chain")


def test_an_envelope_with_a_broken_url_is_dead_lettered_at_once(
    sandbox_settings: Settings,
) -> None:
    case = received_envelope("http://example.kz/", "example.kz", "HL-UV-BAD")
    raw = case.model_dump_json().replace("http://example.kz/", "http://[::1").encode()
    [dead] = run_through(SPEC, [raw], sandbox_settings)
    record = DeadLetter.model_validate_json(dead.value)
    assert dead.topic == "hotline.dlq.url-verify" and record.attempts == 1
