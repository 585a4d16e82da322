"""Operations' commands: `replay STAGE` (move a stage's consumer group to read again) and
`dlq list|replay STAGE` (its dead letters, and sending them back). The work is done in
pipeline/cli/offsets.py and pipeline/cli/dlq.py; here the command line is read and answered."""

from __future__ import annotations

import asyncio
import sys
from typing import Annotated

import typer
from rich.console import Console

from pipeline.cli.stages import WORKERS
from pipeline.config import get_settings

dlq_app = typer.Typer(help="Messages a stage could not process.", no_args_is_help=True)

console = Console(stderr=True)


def _fail(message: str) -> typer.Exit:
    console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code=1)


def _out() -> Console:
    return Console(width=None if sys.stdout.isatty() else 160)


def _inputs(stage: str) -> tuple[str, ...]:
    from pipeline.cli.stages import stage_spec

    try:
        return stage_spec(stage).inputs
    except KeyError:
        raise _fail(f"unknown stage {stage!r}; the workers are: {', '.join(WORKERS)}") from None


def _bootstrap() -> str:
    from pipeline.cli.commands import current_bootstrap  # it imports this module

    return current_bootstrap(get_settings())


def replay(
    stage: Annotated[str, typer.Argument(help=f"One of: {', '.join(WORKERS)}.")],
    to_datetime: Annotated[
        str | None,
        typer.Option(
            "--to-datetime",
            "--from",
            help="The first messages at or after this ISO time (no zone: local time).",
        ),
    ] = None,
    to_earliest: Annotated[
        bool, typer.Option("--to-earliest", help="The beginning of every partition.")
    ] = False,
    shift_by: Annotated[
        int | None,
        typer.Option("--shift-by", help="The group's offsets moved by N (negative: back)."),
    ] = None,
    execute: Annotated[
        bool, typer.Option("--execute", help="Commit the new offsets (its workers stopped).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON line per partition.")] = False,
) -> None:
    """Make a stage read its input again from a point: a preview of the new offsets of its
    group `hotline-STAGE`, committed with --execute while none of its workers runs. Safe to
    replay: its outputs come again with the same event ids, and no notice is sent twice."""
    from pipeline.cli.offsets import (
        ReplayError,
        execute_replay,
        messages,
        plan_replay,
        refusal,
        replay_table,
        target_from_options,
    )

    inputs = _inputs(stage)
    try:
        target = target_from_options(to_datetime, to_earliest, shift_by)
    except ValueError as error:
        raise _fail(str(error)) from None
    settings = get_settings()
    bootstrap = _bootstrap()
    try:
        plan = asyncio.run(plan_replay(settings, bootstrap, stage, inputs, target))
    except ReplayError as error:
        raise _fail(str(error)) from None
    if as_json:
        for row in plan.rows:
            print(row.model_dump_json())
    else:
        _out().print(replay_table(plan))
    if not execute:
        note = f"; {len(plan.live_members)} worker(s) running" if plan.live_members else ""
        console.print(f"preview only: nothing changed (add --execute{note})")
        return
    if plan.live_members:
        raise _fail(refusal(plan))
    try:
        asyncio.run(execute_replay(bootstrap, plan))
    except ReplayError as error:
        raise _fail(str(error)) from None
    re_read = sum(row.re_read for row in plan.rows)
    console.print(
        f"{plan.group}: new offsets committed on {len(plan.rows)} partitions; its workers "
        f"read {messages(re_read)} again when they start"
    )


@dlq_app.command("list")
def dlq_list(
    stage: Annotated[str, typer.Argument(help=f"One of: {', '.join(WORKERS)}.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON line per letter.")] = False,
    limit: Annotated[int, typer.Option(help="Show the newest N.")] = 100,
) -> None:
    """The dead letters of a stage: id (partition:offset), time, error, tries, the message's
    source and size, and whether its original was cut at the cap (it cannot be replayed)."""
    from pipeline.cli.dlq import letter_row, letters_table, newest, read_letters

    _inputs(stage)
    if limit < 1:
        raise _fail("--limit must be at least 1")
    try:
        found = asyncio.run(read_letters(_bootstrap(), stage))
    except KeyError as error:  # the topic is not on this broker
        raise _fail(f"{error.args[0]}: run `hotline topics create`") from None
    shown = newest(found.letters, limit)
    if as_json:
        for stored in shown:
            print(letter_row(stored).model_dump_json())
    else:
        _out().print(letters_table(found.topic, shown, len(found.letters)))
    if found.unreadable:
        console.print(
            f"[yellow]{found.unreadable} records on {found.topic} are not dead letters[/]"
        )


@dlq_app.command("replay")
def dlq_replay(
    stage: Annotated[str, typer.Argument(help=f"One of: {', '.join(WORKERS)}.")],
    ids: Annotated[
        str | None, typer.Option(help="Letters to send back, e.g. 0:3,2:7 (default: every one).")
    ] = None,
    execute: Annotated[bool, typer.Option("--execute", help="Send them.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON line per letter.")] = False,
) -> None:
    """Send dead letters' original messages back to the topic they were read from, once each:
    a preview without --execute. Letters cut at the cap, or already replayed, are skipped."""
    import json

    from pipeline.cli.dlq import choose, decide, decisions_table, read_letters, replays_on_source
    from pipeline.cli.dlq import send_back as send

    inputs = _inputs(stage)
    settings = get_settings()
    bootstrap = _bootstrap()
    try:
        found = asyncio.run(read_letters(bootstrap, stage))
    except KeyError as error:
        raise _fail(f"{error.args[0]}: run `hotline topics create`") from None
    try:
        letters = choose(found.letters, ids) if ids is not None else found.letters
    except ValueError as error:
        raise _fail(f"{error} on {found.topic}") from None
    if not letters:
        console.print(f"no dead letters on {found.topic}")
        return
    try:
        seen = asyncio.run(replays_on_source(settings, bootstrap, letters))
    except TimeoutError as error:
        raise _fail(str(error)) from None
    decisions = decide(letters, seen, inputs)
    if execute:
        try:
            decisions = asyncio.run(send(settings, bootstrap, decisions))
        except KeyError as error:
            raise _fail(f"{error.args[0]}: run `hotline topics create`") from None
    if as_json:
        for d in decisions:
            row = {"id": d.stored.letter_id, "source": d.stored.source_ref, "action": d.action,
                   "detail": d.detail, "sent_to": d.sent_to}  # fmt: skip
            print(json.dumps(row))
    else:
        _out().print(decisions_table(found.topic, decisions, execute))
    sending = [d for d in decisions if d.sends]
    if not execute:
        console.print(f"preview only: nothing sent ({len(sending)} to send; add --execute)")
    elif ids is not None and not sending:
        refused = "; ".join(f"{d.stored.letter_id}: {d.detail}" for d in decisions)
        raise _fail(f"nothing replayed: {refused}")
    else:
        console.print(f"{len(sending)} sent back, {len(decisions) - len(sending)} skipped")


def register(app: typer.Typer) -> None:
    app.command("replay")(replay)
    app.add_typer(dlq_app, name="dlq")
