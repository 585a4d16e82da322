"""What `hotline submit` sends and the receipt it prints."""

from __future__ import annotations

import orjson

from pipeline.cli.submit import prepare, report_from_options
from pipeline.runtime.ids import case_id_for, status_token_for


def test_receipt_names_the_case_the_stage_will_make() -> None:
    line = report_from_options("HTTPS://Example.KZ/a", "hate", "x", "kk", "api", "r@mail.kz")
    value, key, receipt = prepare(line, "secret")
    submission_id = orjson.loads(value)["submission_id"]
    assert receipt["case_id"] == case_id_for(f"submission:{submission_id}")
    assert receipt["status_token"] == status_token_for(receipt["case_id"], "secret")
    assert key == b"example.kz"


def test_a_report_that_would_be_rejected_is_not_sent() -> None:
    _, key, receipt = prepare(b'{"url": "javascript:alert(1)"}', "secret")
    assert key is None
    assert receipt["rejected"] == "url_scheme_not_allowed"
