"""The ledger's commands: `case show|verify|replay`, `ledger rebuild`, `reporter forget`,
`keys create|list|revoke`, `report ntd`. The ledger is opened from the settings (a SQLite file
in the data directory, or HOTLINE_DATABASE_URL)."""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from pipeline.cli.stages import reason_sentences
from pipeline.config import Settings, get_settings
from pipeline.ledger import views
from pipeline.ledger.store import Ledger, ledger_topics
from pipeline.runtime.topics import LEDGER_CONTACTS
from schemas.ledger import ROLES, NtdFigure

case_app = typer.Typer(help="A case's history in the ledger.", no_args_is_help=True)
ledger_app = typer.Typer(help="The case ledger itself.", no_args_is_help=True)
reporter_app = typer.Typer(help="Reporters' personal data.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys of the gateway.", no_args_is_help=True)
report_app = typer.Typer(help="Reports over the ledger.", no_args_is_help=True)

console = Console(stderr=True)


def _fail(message: str) -> typer.Exit:
    console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code=1)


def open_ledger(settings: Settings | None = None) -> Ledger:
    return Ledger.from_settings(settings or get_settings(), sentences=reason_sentences())


def _out() -> Console:
    return Console(width=None if sys.stdout.isatty() else 200)


@case_app.command("show")
def case_show(
    case_id: str,
    as_json: Annotated[bool, typer.Option("--json", help="The entries as JSON lines.")] = False,
) -> None:
    """The case's timeline: stage, time, outcome, reason, rule, who decided, notices, receipts."""
    ledger = open_ledger()
    history = views.timeline(ledger, case_id)
    if not history:
        raise _fail(f"no case {case_id} in the ledger")
    if as_json:
        for entry in history:
            print(entry.model_dump_json())
        return
    table = Table(title=f"{case_id}: {len(history)} entries")
    for column in ("#", "at (UTC)", "step", "outcome", "reason", "rule", "by", "what"):
        table.add_column(column, overflow="fold")
    for entry in history:
        what = entry.summary + (f" [replay {entry.replay}]" if entry.replay else "")
        table.add_row(
            str(entry.seq),
            entry.at.strftime("%Y-%m-%d %H:%M:%S"),
            entry.stage or entry.kind,
            entry.outcome or "",
            entry.reason or "",
            entry.rule or "",
            entry.actor or "",
            what,
        )
    _out().print(table)


@case_app.command("verify")
def case_verify(
    case_id: Annotated[str | None, typer.Argument(help="The case; or --all.")] = None,
    every: Annotated[bool, typer.Option("--all", help="Every case in the ledger.")] = False,
) -> None:
    """Check the hash chain: finds an edited, removed or reordered entry. Exit 1 if any."""
    if (case_id is None) == (not every):
        raise _fail("give a case id or --all")
    ledger = open_ledger()
    ids = ledger.case_ids() if every else [case_id or ""]
    broken = 0
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("verifying", total=len(ids))
        for one in ids:
            problems = ledger.verify(one)
            if problems:
                broken += 1
                for problem in problems:
                    print(f"{one}: {problem}")
            progress.advance(task)
    if broken:
        raise _fail(f"{broken} of {len(ids)} cases fail verification")
    console.print(f"{len(ids)} cases verified: every chain intact")


@case_app.command("replay")
def case_replay(
    case_id: str,
    from_stage: Annotated[str, typer.Option("--from-stage", help="Stage to run again from.")] = (
        "url-verify"
    ),
    execute: Annotated[
        bool, typer.Option("--execute", help="Publish it: the pipeline takes the case on.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="The comparison as JSON.")] = False,
) -> None:
    """Run a case again from a stage with today's rules: original and new verdicts side by side.
    Nothing is published without --execute; with it, no notice already delivered is sent again."""
    from pipeline.cli.commands import current_bootstrap
    from pipeline.cli.replay import ReplayError, replay_case
    from pipeline.cli.replay import as_json as replay_json
    from pipeline.cli.replay import execute as publish

    settings = get_settings()
    ledger = open_ledger(settings)
    try:
        replay = asyncio.run(replay_case(settings, ledger, case_id, from_stage))
    except ReplayError as error:
        raise _fail(str(error)) from None
    if as_json:
        print(replay_json(replay).decode())
    else:
        table = Table(title=f"{case_id} replayed from {from_stage} (today's rules)")
        for column in ("stage", "original", "replayed", ""):
            table.add_column(column, overflow="fold")
        for v in replay.verdicts:
            table.add_row(v.stage, v.original, v.replayed, "changed" if v.changed else "same")
        _out().print(table)
        if replay.notices:
            console.print(
                f"notices: {len(replay.notices)}, of which {len(replay.already_delivered)} "
                "already delivered (never sent again)"
            )
    if not execute:
        console.print("preview only: nothing published (add --execute)")
        return
    event = asyncio.run(publish(settings, current_bootstrap(settings), replay))
    console.print(
        f"published {event.event_id} ({event.producer.version}) to the {from_stage} stage's input"
    )


@ledger_app.command("rebuild")
def ledger_rebuild(
    into: Annotated[
        str | None, typer.Option(help="Another database URL to build into; default: this one.")
    ] = None,
) -> None:
    """Make the ledger again from the topics alone (keys are kept)."""
    from pipeline.cli.commands import current_bootstrap
    from pipeline.ledger.rebuild import rebuild

    settings = get_settings()
    target = settings.model_copy(update={"database_url": into}) if into else settings
    ledger = open_ledger(target)
    topics = list(ledger_topics(settings))
    bootstrap = current_bootstrap(settings)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("rebuilding", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        result = asyncio.run(rebuild(ledger, bootstrap, topics, progress=advance))
    for problem in result.unreadable[:20]:
        console.print(f"[yellow]unreadable:[/] {problem}")
    console.print(
        f"rebuilt {ledger.url}: {result.messages} messages, {result.appended} entries, "
        f"{result.duplicates} duplicates dropped, {result.contacts} contact records, "
        f"{len(result.unreadable)} unreadable (on the dead-letter topic when live)"
    )


@reporter_app.command("forget")
def reporter_forget(case_id: str) -> None:
    """Erase the reporter's contact data of a case; the case's history stays intact."""
    from pipeline.cli.commands import current_bootstrap
    from pipeline.runtime.kafka_io import kafka_producer

    settings = get_settings()
    bootstrap = current_bootstrap(settings)
    erasure = open_ledger(settings).forget(case_id)
    if erasure is None:
        raise _fail(f"the ledger holds no contact for {case_id}")

    async def publish() -> None:
        # The compacted topic keeps the erasure in place of the contact: a rebuild keeps it gone.
        async with kafka_producer(settings, bootstrap) as producer:
            await producer.send_and_wait(
                LEDGER_CONTACTS, erasure.model_dump_json().encode(), key=case_id.encode()
            )

    asyncio.run(publish())
    console.print(f"{case_id}: contact erased from the ledger and from {LEDGER_CONTACTS}")


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(ROLES)}.")],
    label: Annotated[str, typer.Option(help="Whose key (shown as the reviewer's name).")],
) -> None:
    """A new gateway key; it is printed once and only its hash is kept."""
    if role not in ROLES:
        raise _fail(f"--role is one of: {', '.join(ROLES)}")
    secret = open_ledger().create_key(role, label)
    print(secret)
    console.print(f"key for {label} ({role}); keep it now: it is not shown again")


@keys_app.command("list")
def keys_list() -> None:
    table = Table(title="Gateway keys")
    for column in ("id", "role", "label", "created", "revoked"):
        table.add_column(column)
    for key in open_ledger().list_keys():
        table.add_row(
            key["key_id"], key["role"], key["label"], key["created_at"], key["revoked_at"] or ""
        )
    _out().print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: str) -> None:
    if not open_ledger().revoke_key(key_id):
        raise _fail(f"no live key {key_id}")
    console.print(f"key {key_id} revoked")


def _seconds(figure: NtdFigure) -> str:
    if figure.cases == 0:
        return "-"
    return f"{_duration(figure.median_s)} / {_duration(figure.p90_s)} ({figure.cases})"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"


@report_app.command("ntd")
def report_ntd(
    since: Annotated[str | None, typer.Option(help="ISO date or time, e.g. 2026-11-01.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The report as JSON.")] = False,
) -> None:
    """Notice-and-takedown timing: from the report to verification, dispatch, delivery and
    confirmation, median / 90th percentile (cases), per category."""
    start = None
    if since:
        try:
            start = datetime.fromisoformat(since)
        except ValueError:
            raise _fail(f"--since {since!r}: use an ISO date or time") from None
        if start.tzinfo is None:
            start = start.astimezone()
    report = views.ntd(open_ledger(), start)
    if as_json:
        print(report.model_dump_json())
        return
    table = Table(title="Report to … : median / 90th percentile (cases)")
    for column in ("category", "verification", "dispatch", "delivery", "confirmation"):
        table.add_column(column)
    for row in report.rows:
        table.add_row(
            row.category,
            _seconds(row.to_verification),
            _seconds(row.to_dispatch),
            _seconds(row.to_delivery),
            _seconds(row.to_confirmation),
        )
    _out().print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(case_app, name="case")
    app.add_typer(ledger_app, name="ledger")
    app.add_typer(reporter_app, name="reporter")
    app.add_typer(keys_app, name="keys")
    app.add_typer(report_app, name="report")
