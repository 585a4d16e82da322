"""The ledger's commands: `case show|verify|replay`, `reporter forget`, `keys`, `report ntd`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from pipeline.cli.commands import app
from pipeline.cli.replay import replay_case, replay_input
from pipeline.config import Settings, get_settings
from pipeline.ledger import views
from pipeline.ledger.store import LedgerMessage
from pipeline.ledger.tables import entries
from pipeline.ledger.views import REPLAY_PRODUCER
from pipeline.sandbox import Sandbox
from pipeline.sandbox.cases import received_envelope
from pipeline.sandbox.histories import STAGE_TOPICS, case_history
from schemas import Category, Envelope, Verdict
from tests.pipeline.ledger.test_store import START, open_ledger

runner = CliRunner()


@pytest.fixture
def ledger_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    monkeypatch.setenv("HOTLINE_DATABASE_URL", url)
    get_settings.cache_clear()  # the commands read the settings once per process
    ledger = open_ledger(url)
    ledger.record(case_history("HL-CLI0-0001", "casino.kz", Category.gambling, START))
    ledger.record(
        case_history("HL-CLI0-0002", "gone.kz", Category.hate, START, ending="terminated")
    )
    yield url
    get_settings.cache_clear()


def test_case_show_prints_the_timeline(ledger_url: str) -> None:
    shown = runner.invoke(app, ["case", "show", "HL-CLI0-0002"])
    assert shown.exit_code == 0, shown.output
    assert "content_removed" in shown.output and "received" in shown.output
    lines = runner.invoke(app, ["case", "show", "HL-CLI0-0001", "--json"]).output.splitlines()
    first = json.loads(lines[0])
    assert first["seq"] == 1 and first["stage"] == "received" and first["prev_hash"] == "0" * 64
    assert runner.invoke(app, ["case", "show", "HL-NONE-0000"]).exit_code == 1


def test_case_verify_finds_a_tampered_entry(ledger_url: str) -> None:
    assert runner.invoke(app, ["case", "verify", "--all"]).exit_code == 0
    ledger = open_ledger(ledger_url)
    with ledger.engine.begin() as conn:
        conn.execute(
            update(entries)
            .where(entries.c.case_id == "HL-CLI0-0001", entries.c.seq == 2)
            .values(at="2026-11-02T09:00:01.500000Z")
        )
    broken = runner.invoke(app, ["case", "verify", "--all"])
    assert broken.exit_code == 1
    assert "HL-CLI0-0001: entry 2" in broken.output and "HL-CLI0-0002" not in broken.output
    assert runner.invoke(app, ["case", "verify", "HL-CLI0-0002"]).exit_code == 0


def test_keys_and_ntd(ledger_url: str) -> None:
    made = runner.invoke(app, ["keys", "create", "--role", "reviewer", "--label", "Ә. Analyst"])
    assert made.exit_code == 0
    secret = made.stdout.strip().splitlines()[0]
    assert open_ledger(ledger_url).role_of(secret) == "reviewer"
    assert runner.invoke(app, ["keys", "create", "--role", "root", "--label", "x"]).exit_code == 1
    report = json.loads(runner.invoke(app, ["report", "ntd", "--json"]).stdout)
    assert {row["category"] for row in report["rows"]} == {"gambling", "hate", "all"}
    later = json.loads(
        runner.invoke(app, ["report", "ntd", "--since", "2030-01-01", "--json"]).stdout
    )
    assert later["rows"] == []


async def _run_through(settings: Settings, given: Envelope, stages: list[str]) -> list[Envelope]:
    from pipeline.cli.replay import _run_stage

    made = []
    current: Envelope | None = given
    for stage in stages:
        assert current is not None
        current = await _run_stage(settings, stage, current)
        assert current is not None
        made.append(current)
    return made


def test_a_replay_sets_todays_verdicts_beside_the_originals(
    sandbox: Sandbox, sandbox_settings: Settings, tmp_path: Path
) -> None:
    import asyncio

    url = sandbox.url("best-casino.kz", "/kk")
    received = received_envelope(url, "best-casino.kz", "HL-RPLY-0001", Category.gambling)
    made = asyncio.run(
        _run_through(sandbox_settings, received, ["url-verify", "content-check", "categorize"])
    )
    # The ledger's categorize event says what older rules said: not illegal.
    old = made[-1].case.category
    assert old is not None
    made[-1] = made[-1].model_copy(
        update={
            "case": made[-1].case.model_copy(
                update={"category": old.model_copy(update={"verdict": Verdict.not_illegal})}
            )
        }
    )
    ledger = open_ledger(f"sqlite:///{tmp_path / 'replay.db'}")
    ledger.record(
        [
            LedgerMessage(STAGE_TOPICS[e.stage], e.model_dump_json().encode())
            for e in [received, *made]
        ]
    )
    replay = asyncio.run(replay_case(sandbox_settings, ledger, "HL-RPLY-0001", "categorize"))
    stages = [v.stage for v in replay.verdicts]
    assert stages == ["categorize", "jurisdiction", "dispatch"]
    categorize = replay.verdicts[0]
    assert "not_illegal" in categorize.original and "confirmed" in categorize.replayed
    assert categorize.changed
    assert replay.verdicts[1].original == "-" and "domestic" in replay.verdicts[1].replayed
    assert replay.notices and replay.already_delivered == []
    # What --execute publishes: the stage's input again, as the replay's own event.
    issued = replay_input(replay, "rp-test")
    assert issued.event_id != made[1].event_id and issued.producer.service == REPLAY_PRODUCER
    ledger.record([LedgerMessage(STAGE_TOPICS["content-check"], issued.model_dump_json().encode())])
    marked = [e for e in views.timeline(ledger, "HL-RPLY-0001") if e.replay]
    assert [e.entry_id for e in marked] == [issued.event_id]
    with pytest.raises(ValueError, match="replays from one of"):
        asyncio.run(replay_case(sandbox_settings, ledger, "HL-RPLY-0001", "received"))
