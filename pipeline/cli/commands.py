"""`hotline`: the one command for operators, intake integrators and developers."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from collections.abc import Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from pipeline.broker.launcher import BrokerError, embedded_broker
from pipeline.cli import lag as lag_commands
from pipeline.cli import ledger as ledger_commands
from pipeline.cli import operations as operations_commands
from pipeline.config import Settings, get_settings
from pipeline.runtime.logs import configure_logging

app = typer.Typer(help="Hotline case pipeline.", no_args_is_help=True, add_completion=False)
topics_app = typer.Typer(help="Kafka topics of the pipeline.", no_args_is_help=True)
stage_app = typer.Typer(help="Run one stage worker.", no_args_is_help=True)
schema_app = typer.Typer(help="Published JSON Schemas.", no_args_is_help=True)
broker_app = typer.Typer(help="The embedded broker.", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks, reported as ratios measured in one run.")
review_app = typer.Typer(help="The analysts' review queue.", no_args_is_help=True)
eval_app = typer.Typer(help="Stage decisions measured on labelled data.", no_args_is_help=True)
notices_app = typer.Typer(help="Notices sent and their deadlines.", no_args_is_help=True)
app.add_typer(topics_app, name="topics")
app.add_typer(stage_app, name="stage")
app.add_typer(schema_app, name="schema")
app.add_typer(broker_app, name="broker")
app.add_typer(bench_app, name="bench")
app.add_typer(review_app, name="review")
app.add_typer(notices_app, name="notices")
app.add_typer(eval_app, name="eval")
ledger_commands.register(app)
operations_commands.register(app)
lag_commands.register(app)

console = Console(stderr=True)


def fail(message: str) -> typer.Exit:
    console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code=1)


def current_bootstrap(settings: Settings) -> str:
    """HOTLINE_BOOTSTRAP, else the embedded broker of this data directory if it runs."""
    if settings.bootstrap:
        return settings.bootstrap
    broker = embedded_broker(settings)
    if broker.running():
        return broker.bootstrap
    raise fail(
        "no broker: start one with `hotline up` (or `hotline broker start`), "
        "or set HOTLINE_BOOTSTRAP=host:port"
    )


# ---------------------------------------------------------------- broker


@broker_app.command("start")
def broker_start() -> None:
    """Start the embedded broker in the background (Kafka, or Tansu with HOTLINE_BROKER=tansu)."""
    settings = get_settings()
    broker = embedded_broker(settings)
    try:
        with console.status("starting the embedded broker (the first time fetches Kafka)"):
            bootstrap = broker.start()
    except BrokerError as error:
        raise fail(str(error)) from None
    print(bootstrap)


@broker_app.command("stop")
def broker_stop() -> None:
    """Stop the embedded broker of this data directory."""
    embedded_broker(get_settings()).stop()


@broker_app.command("status")
def broker_status() -> None:
    broker = embedded_broker(get_settings())
    print(f"running at {broker.bootstrap}" if broker.running() else "not running")


# ---------------------------------------------------------------- topics


@topics_app.command("create")
def topics_create() -> None:
    """Create every topic of topics.yaml that is missing; safe to run again."""
    from pipeline.runtime.topics import create_topics

    settings = get_settings()
    report = asyncio.run(create_topics(settings, current_bootstrap(settings)))
    console.print(f"created {len(report.created)} topics, {len(report.existing)} already there")
    for name in report.created:
        console.print(f"  + {name}")
    for problem in report.mismatched:
        console.print(f"  [yellow]! {problem}[/]")


@topics_app.command("tail")
def topics_tail(
    topic: str,
    count: Annotated[int, typer.Option("-n", help="How many of the newest messages.")] = 10,
) -> None:
    """Print the newest messages of a topic as JSON lines."""
    from pipeline.runtime.kafka_io import newest_messages
    from pipeline.runtime.topics import load_topics

    settings = get_settings()
    known = load_topics(settings.topics_file)
    if topic not in known:
        raise fail(f"unknown topic {topic!r}; the topics are: {', '.join(known)}")
    try:
        values = asyncio.run(newest_messages(current_bootstrap(settings), topic, count))
    except KeyError as error:  # registered, but not created on this broker
        raise fail(f"{error.args[0]}: run `hotline topics create`") from None
    for value in values:
        print(value.decode("utf-8", "replace"))


# ---------------------------------------------------------------- stages


@stage_app.command("run")
def stage_run(name: str) -> None:
    """Run one worker of a stage; start another to split its partitions."""
    from pipeline.cli.stages import stage_spec, undeclared_topics
    from pipeline.runtime.stage import SetupError
    from pipeline.runtime.topics import load_topics
    from pipeline.runtime.worker import build_stage_app, run_worker

    settings = get_settings()
    try:
        spec = stage_spec(name)
    except KeyError as error:
        raise fail(str(error.args[0])) from None
    missing = undeclared_topics(spec, set(load_topics(settings.topics_file)))
    if missing:
        raise fail(f"stage {name} uses topics that topics.yaml does not list: {', '.join(missing)}")
    configure_logging(settings.log_level, settings.log_format)
    partitions = load_topics(settings.topics_file)[spec.inputs[0]].partitions
    try:
        stage_app_, _ = build_stage_app(spec, settings, current_bootstrap(settings), partitions)
    except SetupError as error:  # a malformed rule or bank file: named, and no worker
        raise fail(f"stage {name} cannot start: {error}") from None
    run_worker(stage_app_, settings.log_level)


# ---------------------------------------------------------------- submit


@app.command()
def submit(
    url: Annotated[str | None, typer.Option(help="The reported address.")] = None,
    category: Annotated[str | None, typer.Option(help="terrorism, hate, csam, ...")] = None,
    description: Annotated[str, typer.Option(help="The reporter's words.")] = "",
    language: Annotated[str | None, typer.Option(help="kk, ru, en, ...")] = None,
    channel: Annotated[str, typer.Option(help="web_form, mobile_app, api, ...")] = "api",
    email: Annotated[str | None, typer.Option(help="Reporter's email (ledger only).")] = None,
    file: Annotated[
        Path | None, typer.Option("--file", "-f", help="JSON Lines, one report a line.")
    ] = None,
) -> None:
    """Publish reports to hotline.intake and print their case ids and status tokens."""
    from pipeline.cli.submit import report_from_options, submit_lines

    settings = get_settings()
    if file is not None:
        if not file.is_file():
            raise fail(f"no file {str(file)!r} to submit")
        lines = file.read_bytes().splitlines()
    elif url is not None and category is not None:
        lines = [report_from_options(url, category, description, language, channel, email)]
    else:
        raise fail("give --url and --category, or --file reports.jsonl")
    receipts = asyncio.run(submit_lines(settings, current_bootstrap(settings), lines, console))
    for receipt in receipts:
        print(json.dumps(receipt))


# ---------------------------------------------------------------- notices


@notices_app.command("overdue")
def notices_overdue(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON line per notice.")] = False,
) -> None:
    """Notices past their deadline that no one has confirmed, the latest first overdue."""
    from pipeline.cli.notices import notice_states, overdue_rows, overdue_table

    settings = get_settings()
    states = asyncio.run(notice_states(current_bootstrap(settings)))
    rows = overdue_rows(states, datetime.now(UTC))
    if as_json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
    else:
        Console(width=None if sys.stdout.isatty() else 160).print(overdue_table(rows))


@notices_app.command("confirm")
def notices_confirm(
    key: str,
    by: Annotated[str, typer.Option(help="Who confirms (an operator).")],
    note: Annotated[str, typer.Option(help="What the recipient did.")] = "",
) -> None:
    """Record that a notice's recipient acted (or a form was filed): it is no longer overdue."""
    from pipeline.cli.notices import confirm

    settings = get_settings()
    try:
        receipt = asyncio.run(confirm(settings, current_bootstrap(settings), key, by, note))
    except KeyError as error:
        raise fail(str(error.args[0])) from None
    print(receipt.model_dump_json())


# ---------------------------------------------------------------- schemas


@schema_app.command("export")
def schema_export(directory: Path) -> None:
    """Write the JSON Schemas of the published models into DIRECTORY."""
    from schemas.export import export_schemas

    for path in export_schemas(directory):
        console.print(f"wrote {path}")


# ---------------------------------------------------------------- bench


def _bench_result(run: Coroutine[Any, Any, dict[str, Any]]) -> None:
    """Run a benchmark with its workers' chatter off: one JSON line, the last on stdout."""
    configure_logging("warning")
    print(json.dumps(asyncio.run(run)))


@bench_app.command("received")
def bench_received(
    reports: Annotated[int, typer.Option(help="How many reports to push through.")] = 20_000,
) -> None:
    """Throughput of the received stage against a raw aiokafka relay, on a scratch broker."""
    import uvloop  # the stage workers run on uvloop too: same loop for both contenders

    from pipeline.cli.bench.received import run_received_bench

    configure_logging("warning")
    result = uvloop.run(run_received_bench(get_settings(), reports, console))
    print(json.dumps(result))  # one line, the last on stdout: for scripts


@bench_app.command("verify")
def bench_verify(
    reports: Annotated[int, typer.Option(help="How many cases to check.")] = 3_000,
    latency: Annotated[float, typer.Option(help="Seconds added to every DNS/HTTP answer.")] = 0.1,
    concurrency: Annotated[int, typer.Option(help="Events in flight per worker.")] = 64,
) -> None:
    """url-verify + content-check against the sandbox with latency: achieved rate versus the
    slowest stage's bound C / (2 lookups x latency), and CPU per case of each process."""
    from pipeline.cli.bench.verify import run_verify_bench

    if latency <= 0 or concurrency < 1 or reports < 1:
        raise fail("--latency must be above 0 s, --concurrency and --reports at least 1")
    _bench_result(run_verify_bench(get_settings(), reports, latency, concurrency, console))


@bench_app.command("jurisdiction")
def bench_jurisdiction(
    cases: Annotated[int, typer.Option(help="How many cases to locate.")] = 1_000,
    hosts: Annotated[int, typer.Option(help="How many distinct hosts they are on.")] = 50,
    latency: Annotated[float, typer.Option(help="Seconds added to every answer.")] = 0.1,
    concurrency: Annotated[int, typer.Option(help="Events in flight in the worker.")] = 64,
) -> None:
    """The jurisdiction stage on many reports of few hosts, every DNS/RDAP/whois answer late:
    RDAP questions asked, and the rate against C / (uncached lookups per case x latency)."""
    from pipeline.cli.bench.jurisdiction import run_jurisdiction_bench

    if latency <= 0 or concurrency < 1 or cases < 1 or not 1 <= hosts <= 600:
        raise fail("--hosts 1 to 600, --latency above 0 s, --concurrency and --cases at least 1")
    _bench_result(
        run_jurisdiction_bench(get_settings(), cases, hosts, latency, concurrency, console)
    )


@bench_app.command("dispatch")
def bench_dispatch(
    notices: Annotated[int, typer.Option(help="How many notices to deliver.")] = 3_000,
    latency: Annotated[float, typer.Option(help="Seconds the SMTP sink takes per message.")] = 0.05,
    concurrency: Annotated[int, typer.Option(help="Notices in flight in the worker.")] = 32,
) -> None:
    """The delivery worker mailing notices to the sandbox's SMTP sink: the rate against the
    bound C / latency, and CPU per notice of each process."""
    from pipeline.cli.bench.dispatch import run_dispatch_bench

    if latency <= 0 or concurrency < 1 or notices < 1:
        raise fail("--latency above 0 s, --concurrency and --notices at least 1")
    _bench_result(run_dispatch_bench(get_settings(), notices, latency, concurrency, console))


@bench_app.command("ledger")
def bench_ledger(
    events: Annotated[int, typer.Option(help="Events in the ledger.")] = 1_000_000,
    lookups: Annotated[int, typer.Option(help="`case show` queries timed.")] = 1000,
    database_url: Annotated[
        str, typer.Option(help="A database to fill (emptied first); default: a scratch SQLite.")
    ] = "",
) -> None:
    """A ledger of EVENTS events, then `case show` for random cases: p99 against 100 ms."""
    from pipeline.cli.bench.ledger import run_ledger_bench

    result = run_ledger_bench(get_settings(), events, lookups, console, database_url)
    print(json.dumps(result))


@bench_app.command("lag")
def bench_lag(
    rounds: Annotated[int, typer.Option(help="Monitor rounds timed.")] = 20,
) -> None:
    """The lag monitor's round over 6 stage groups x 12 partitions on a scratch broker: the
    median round against 200 ms, its CPU share at a 5 s interval against 0.02."""
    from pipeline.cli.bench.lag import run_lag_bench

    if rounds < 1:
        raise fail("--rounds must be at least 1")
    _bench_result(run_lag_bench(get_settings(), console, rounds))


@bench_app.command("categorize")
def bench_categorize(
    texts: Annotated[int, typer.Option(help="How many 10 KiB texts to decide.")] = 2_000,
) -> None:
    """The categorize decision on 10 KiB texts, on one core: texts per second."""
    from pipeline.cli.bench.categorize import run_categorize_bench

    if texts < 1:
        raise fail("--texts must be at least 1")
    print(json.dumps(run_categorize_bench(texts, console)))  # one line, the last on stdout


# ---------------------------------------------------------------- review


@review_app.command("list")
def review_list(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON line per case.")] = False,
) -> None:
    """Cases waiting for an analyst, oldest first, with their age and evidence."""
    from datetime import UTC, datetime

    from pipeline.cli.review import age, queue, queue_table

    settings = get_settings()
    waiting = asyncio.run(queue(current_bootstrap(settings))).waiting
    now = datetime.now(UTC)
    if not as_json:
        Console(width=None if sys.stdout.isatty() else 160).print(queue_table(waiting, now))
        return
    for case in waiting:
        found = case.case.category
        row = {
            "case_id": case.case_id,
            "age": age(case, now),
            "waiting_since": case.occurred_at.isoformat(),
            "reported": case.case.report.category,
            "suggested": found.suggested if found else None,
            "why": found.why if found else None,
            "url": case.case.report.url,
        }
        print(json.dumps(row, ensure_ascii=False))


@review_app.command("decide")
def review_decide(
    case_id: str,
    verdict: Annotated[str, typer.Option(help="confirmed, corrected or not_illegal.")],
    reviewer: Annotated[str, typer.Option(help="Who decides (recorded on the case).")],
    note: Annotated[str, typer.Option(help="Why, for the case's history.")] = "",
    category: Annotated[str | None, typer.Option(help="With corrected: the category.")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the stage.")] = 30.0,
) -> None:
    """Decide a case waiting in review; the categorize stage moves it on or ends it."""
    from pydantic import ValidationError

    from pipeline.cli.review import decide, new_decision, queue
    from schemas import Category

    if verdict not in ("confirmed", "corrected", "not_illegal"):
        raise fail("--verdict is one of: confirmed, corrected, not_illegal")
    if (verdict == "corrected") != (category is not None):
        raise fail("--category goes with --verdict corrected, and only with it")
    try:
        chosen = Category(category) if category else None
        decision = new_decision(case_id, verdict, chosen, note, reviewer)
    except (ValueError, ValidationError) as error:
        raise fail(f"not a decision: {error}") from None
    settings = get_settings()
    bootstrap = current_bootstrap(settings)
    known = asyncio.run(queue(bootstrap))
    if case_id in known.decided:
        raise fail(f"{case_id} was already decided ({known.decided[case_id]})")
    if known.find(case_id) is None:
        raise fail(f"no case {case_id} is waiting in review")
    try:
        answer = asyncio.run(decide(settings, bootstrap, decision, timeout))
    except TimeoutError as error:
        raise fail(str(error)) from None
    if not answer.accepted:
        raise fail(f"{answer.problem}: {answer.message}")
    console.print(f"{case_id}: {verdict} by {reviewer}, taken")


# ---------------------------------------------------------------- eval


@eval_app.command("categorize")
def eval_categorize(
    data: Annotated[Path, typer.Option(help="JSON lines of text, language, label.")] = Path(
        "tests/data/categorize.jsonl"
    ),
    misreport: Annotated[
        float, typer.Option(help="Share of lines reported as a wrong category.")
    ] = 0.0,
) -> None:
    """Precision, recall and review share of the categorize rules on a labelled set."""
    from agents.categorize import CategorizeOptions, RuleBook, read_labelled
    from pipeline.cli.evaluate import evaluate, report_table
    from pipeline.runtime.rules import RuleFileError

    if not data.is_file():
        raise fail(f"no file {str(data)!r}")
    if not 0 <= misreport <= 1:
        raise fail("--misreport is a share, from 0 to 1")
    try:
        book = RuleBook.load(CategorizeOptions().categorize_rules)
        lines = read_labelled(data)
    except (RuleFileError, ValueError) as error:
        raise fail(str(error)) from None
    result = evaluate(book, lines, misreport)
    console.print(report_table(result))
    for pair, count in result["confusion"].items():
        truth, said = pair.split(" -> ")
        if truth != said:
            console.print(f"  {pair}: {count}")
    summary = {k: result[k] for k in ("macro_precision", "review_share", "accuracy_auto", "texts")}
    print(json.dumps({**summary, "ruleset_version": book.version, "misreport": misreport}))


# ---------------------------------------------------------------- gateway


@app.command()
def gateway() -> None:
    """Run the HTTP gateway: report intake, reporter status, review pages, the public registry
    and appeals, NTD timing (OpenAPI at /docs). Listens on HOTLINE_GATEWAY_HOST:PORT."""
    from pipeline.cli.ledger import open_ledger
    from pipeline.gateway.server import serve

    settings = get_settings()
    serve(settings, current_bootstrap(settings), ledger=open_ledger(settings))


# ---------------------------------------------------------------- up


@app.command()
def up(
    samples: Annotated[bool, typer.Option(help="Submit the sample reports once running.")] = False,
    sandbox: Annotated[
        bool, typer.Option(help="Start the sandbox internet and check links against it.")
    ] = False,
    workers: Annotated[
        list[str] | None,
        typer.Option(
            "--workers",
            metavar="NAME=N",
            help="Processes of a worker, e.g. url-verify=3 (repeatable or comma-separated; "
            "one of each otherwise).",
        ),
    ] = None,
) -> None:
    """Start everything built so far: broker (embedded unless configured), topics, every stage
    and side service, the gateway and the lag monitor, restarting any that stops."""
    from pipeline.cli.stack import Stack, StackError
    from pipeline.cli.stages import WORKERS
    from pipeline.cli.workers import worker_counts

    try:
        counts = worker_counts(workers or [], WORKERS)
    except ValueError as error:
        raise fail(str(error)) from None
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        with Stack(settings, console, sandbox=sandbox, workers=counts) as stack:
            if samples:
                subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "pipeline.cli",
                        "submit",
                        "--file",
                        str(stack.samples()),
                    ],
                    env=stack.env,
                    check=False,
                )
            bootstrap = stack.bootstrap
            console.print(
                "Submit a report from another terminal:\n"
                f"  HOTLINE_BOOTSTRAP={bootstrap} hotline submit --url http://best-casino.kz/ "
                "--category gambling\n"
                f"  HOTLINE_BOOTSTRAP={bootstrap} hotline topics tail hotline.dispatched\n"
                f"  HOTLINE_BOOTSTRAP={bootstrap} hotline topics tail hotline.notices\n"
                f"  HOTLINE_BOOTSTRAP={bootstrap} hotline topics tail hotline.terminated\n"
                f"  HOTLINE_BOOTSTRAP={bootstrap} hotline review list\n"
                f"  HOTLINE_BOOTSTRAP={bootstrap} hotline notices overdue\n"
                "  hotline case show CASE_ID                  # a case's history in the ledger\n"
                "  hotline keys create --role reviewer --label NAME   # a key for the pages\n"
                f"Gateway: {stack.gateway_url}/ (report form), {stack.gateway_url}/registry, "
                f"{stack.gateway_url}/review, {stack.gateway_url}/docs\n"
                f"Dashboard: {stack.gateway_url}/dashboard\n"
                f"Processes and their pids: {stack.state_file}; one that stops is restarted.\n"
                "Ctrl-C stops everything."
            )
            # The supervisor watches the processes on its own thread; this one waits for
            # Ctrl-C or SIGTERM, then leaving the `with` stops everything in order.
            while not stopping:
                time.sleep(0.2)
    except StackError as error:
        raise fail(str(error)) from None


@app.command()
def demo(
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the cases.")] = 180.0,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON line per case instead of a table.")
    ] = False,
) -> None:
    """Run the sample reports through every stage built so far against the sandbox internet,
    offline, print how each case ended, and stop."""
    from pipeline.cli.demo import (
        case_ends,
        ledger_settled,
        notices_settled,
        notices_table,
        summaries,
        summary_table,
    )
    from pipeline.cli.ledger import open_ledger
    from pipeline.cli.stack import Stack, StackError
    from pipeline.cli.submit import submit_lines

    settings = get_settings()
    configure_logging("warning")
    try:
        with Stack(settings, console, sandbox=True) as stack:
            reports = stack.samples().read_bytes().splitlines()
            receipts = asyncio.run(submit_lines(settings, stack.bootstrap, reports, console))
            case_ids = [r["case_id"] for r in receipts if "case_id" in r]
            ends = asyncio.run(case_ends(stack.bootstrap, set(case_ids), timeout, console))
            notices = asyncio.run(notices_settled(stack.bootstrap, ends, timeout / 2, console))
            at_sink = set(stack.mailbox())
            held = ledger_settled(open_ledger(settings), ends, notices, timeout / 2, console)
    except StackError as error:
        raise fail(str(error)) from None
    rows = summaries(case_ids, ends, notices, at_sink, held)
    if as_json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
    else:
        # Wide enough for the table when the output is a file or a pipe.
        wide = Console(width=None if sys.stdout.isatty() else 150)
        wide.print(summary_table(rows))
        wide.print(notices_table(rows))
    if len(ends) < len(case_ids):
        raise fail(f"{len(case_ids) - len(ends)} cases did not finish within {timeout}s")


def main() -> None:
    from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError

    try:
        app()
    except (KafkaConnectionError, KafkaTimeoutError) as error:
        # A broker named by HOTLINE_BOOTSTRAP (or left behind) that does not answer.
        console.print(f"[bold red]error:[/] the broker does not answer: {error}")
        raise SystemExit(1) from None
