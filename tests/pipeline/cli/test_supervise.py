"""The supervisor of `hotline up`, with dummy children (`python -c`): restarts with growing
waits, crash loops, a clean stop of everything; and the `--workers` option."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from pipeline.cli.commands import app
from pipeline.cli.stack import Stack, instance_names
from pipeline.cli.stages import WORKERS
from pipeline.cli.supervise import (
    SPAWN_FAILED,
    Event,
    Exit,
    ProcessSpec,
    Restart,
    RestartPolicy,
    Supervisor,
)
from pipeline.cli.workers import gateway_command, monitor_command, worker_command, worker_counts
from pipeline.config import Settings

# Tiny waits, so that a test sees several restarts in well under a second.
FAST = RestartPolicy(
    first_delay=0.05, max_delay=0.4, healthy_after=60, start_window=5, crash_loop=100
)
SLEEP = "import time; time.sleep(60)"
Supervise = Callable[..., tuple[Supervisor, list[Event]]]


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def eventually(condition: Callable[[], bool], timeout: float = 10, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


def alive(pid: int) -> bool:
    """Running (a zombie, dead but not yet reaped by its parent, counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.fixture
def supervise(tmp_path: Path) -> Iterator[Supervise]:
    """Start a supervisor of `{name: code}` children; every one is stopped after the test."""
    started: list[Supervisor] = []

    def start(
        children: dict[str, list[str]], policy: RestartPolicy = FAST
    ) -> tuple[Supervisor, list[Event]]:
        events: list[Event] = []
        supervisor = Supervisor(
            [
                ProcessSpec(name, cmd, tmp_path / "logs" / f"{name}.log")
                for name, cmd in children.items()
            ],
            policy=policy,
            on_event=events.append,
            state_file=tmp_path / "processes.json",
            interval=0.01,
        )
        supervisor.start()
        started.append(supervisor)
        return supervisor, events

    yield start
    for supervisor in started:
        supervisor.stop_all()


def exits(events: list[Event], name: str) -> list[Exit]:
    return [e for e in list(events) if isinstance(e, Exit) and e.name == name]


def test_a_child_that_fails_at_once_is_restarted_with_doubling_waits(supervise: Supervise) -> None:
    supervisor, events = supervise({"crasher": python("raise SystemExit(1)")})
    eventually(lambda: supervisor.restarts()["crasher"] >= 6, what="six restarts")
    assert supervisor.waits("crasher")[:6] == [0.05, 0.1, 0.2, 0.4, 0.4, 0.4]  # capped at max
    gone = exits(events, "crasher")
    assert all(e.code == 1 and not e.crash_loop for e in gone)
    assert [e.restart_in for e in gone[:4]] == [0.05, 0.1, 0.2, 0.4]
    restarts = [e for e in list(events) if isinstance(e, Restart)]
    assert [r.restarts for r in restarts[:3]] == [1, 2, 3]
    assert "exited (code 1)" in gone[0].describe() and "crasher.log" in gone[0].describe()


def test_a_child_that_keeps_failing_at_start_is_reported_and_retried_at_the_longest_wait(
    supervise: Supervise,
) -> None:
    policy = RestartPolicy(
        first_delay=0.02, max_delay=0.3, healthy_after=60, start_window=5, crash_loop=3
    )
    _, events = supervise({"broken": python("raise SystemExit(2)")}, policy)
    eventually(lambda: len(exits(events, "broken")) >= 4, what="four exits")
    first, second, third, fourth = exits(events, "broken")[:4]
    assert not first.crash_loop and not second.crash_loop
    assert third.crash_loop and third.failed_starts == 3 and third.restart_in == 0.3
    assert fourth.crash_loop and fourth.restart_in == 0.3  # still retried
    assert "keeps failing right after it starts (3 times in a row" in third.describe()


def test_the_wait_starts_over_after_a_run_that_lasted(supervise: Supervise) -> None:
    # Each run lasts longer than `healthy_after`: every restart gets the first, short wait.
    policy = RestartPolicy(
        first_delay=0.05, max_delay=5, healthy_after=0.2, start_window=0.1, crash_loop=2
    )
    supervisor, events = supervise(
        {"flaky": python("import time; time.sleep(0.3); raise SystemExit(3)")}, policy
    )
    eventually(lambda: supervisor.restarts()["flaky"] >= 3, what="three restarts")
    assert supervisor.waits("flaky")[:3] == [0.05, 0.05, 0.05]
    assert not any(e.crash_loop for e in exits(events, "flaky"))


def test_a_child_that_exits_cleanly_on_its_own_is_restarted_too(supervise: Supervise) -> None:
    supervisor, events = supervise({"quitter": python("pass")})
    eventually(lambda: supervisor.restarts()["quitter"] >= 1, what="a restart")
    assert exits(events, "quitter")[0].code == 0


def test_a_command_that_cannot_start_is_retried(supervise: Supervise, tmp_path: Path) -> None:
    _, events = supervise({"missing": [str(tmp_path / "no-such-program")]})
    eventually(lambda: len(exits(events, "missing")) >= 2, what="two failed starts")
    assert exits(events, "missing")[0].code == SPAWN_FAILED
    assert "cannot start" in (tmp_path / "logs" / "missing.log").read_text()


def test_a_killed_child_comes_back_under_a_new_pid(supervise: Supervise, tmp_path: Path) -> None:
    supervisor, events = supervise({"a": python(SLEEP), "b": python(SLEEP)})
    state = json.loads((tmp_path / "processes.json").read_text())
    assert state["supervisor_pid"] == os.getpid()
    assert {name: p["pid"] for name, p in state["processes"].items()} == supervisor.pids()
    old = supervisor.pids()["a"]
    os.kill(old, signal.SIGKILL)
    eventually(lambda: supervisor.pids().get("a") not in (None, old), what="a new pid for a")
    [gone] = exits(events, "a")
    assert gone.code == -signal.SIGKILL and "SIGKILL" in gone.describe()
    state = json.loads((tmp_path / "processes.json").read_text())
    assert state["processes"]["a"]["pid"] == supervisor.pids()["a"]
    assert state["processes"]["a"]["restarts"] == 1
    assert state["processes"]["a"]["last_exit_code"] == -signal.SIGKILL
    assert supervisor.restarts() == {"a": 1, "b": 0}


def test_each_child_logs_to_its_own_file_in_its_own_process_group(
    supervise: Supervise, tmp_path: Path
) -> None:
    code = (
        "import sys, time; print('out', flush=True); "
        "print('err', file=sys.stderr, flush=True); time.sleep(60)"
    )
    supervisor, _ = supervise({"talker": python(code), "quiet": python(SLEEP)})
    log = tmp_path / "logs" / "talker.log"
    eventually(lambda: log.exists() and "err" in log.read_text(), what="the child's lines")
    assert log.read_text().split() == ["out", "err"]
    assert (tmp_path / "logs" / "quiet.log").read_text() == ""
    # Ctrl-C in a terminal signals the foreground process group: only the supervisor's.
    for pid in supervisor.pids().values():
        assert os.getpgid(pid) == pid != os.getpgid(0)


def test_a_clean_stop_stops_every_child_and_restarts_nothing(
    supervise: Supervise, tmp_path: Path
) -> None:
    # One child that ignores SIGTERM (SIGKILLed after the stop timeout), one that started a
    # grandchild (killed with it), one that stops at SIGTERM.
    stubborn = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('ready', flush=True); time.sleep(60)"
    )
    parent = (
        "import subprocess, sys, time; "
        f"child = subprocess.Popen([sys.executable, '-c', {SLEEP!r}]); "
        f"open({str(tmp_path / 'grandchild')!r}, 'w').write(str(child.pid)); time.sleep(60)"
    )
    policy = RestartPolicy(first_delay=0.05, stop_timeout=1.0)
    supervisor, events = supervise(
        {"polite": python(SLEEP), "stubborn": python(stubborn), "parent": python(parent)}, policy
    )
    grandchild_file = tmp_path / "grandchild"
    eventually(lambda: grandchild_file.exists() and grandchild_file.read_text() != "", what="pid")
    eventually(lambda: "ready" in (tmp_path / "logs" / "stubborn.log").read_text(), what="ready")
    pids = [*supervisor.pids().values(), int(grandchild_file.read_text())]
    started = time.monotonic()
    codes = supervisor.stop_all()
    assert time.monotonic() - started < 5
    assert codes == {
        "polite": -signal.SIGTERM,
        "stubborn": -signal.SIGKILL,
        "parent": -signal.SIGTERM,
    }
    eventually(lambda: not any(alive(pid) for pid in pids), timeout=5, what="no process left")
    assert not (tmp_path / "processes.json").exists()
    time.sleep(0.2)  # longer than the restart wait: nothing comes back
    assert supervisor.pids() == {} and not [e for e in events if isinstance(e, Restart)]
    assert supervisor.stop_all() == {"polite": None, "stubborn": None, "parent": None}


class Interrupted(Exception):
    pass


def test_an_interrupted_stop_kills_what_is_left(supervise: Supervise, tmp_path: Path) -> None:
    """A second Ctrl-C while the stop waits (as in `hotline demo`) leaves no child behind."""
    stubborn = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('ready', flush=True); time.sleep(60)"
    )
    supervisor, _ = supervise({"stubborn": python(stubborn)}, RestartPolicy(stop_timeout=30))
    eventually(lambda: "ready" in (tmp_path / "logs" / "stubborn.log").read_text(), what="ready")
    [pid] = supervisor.pids().values()

    def interrupt(*_: object) -> None:
        raise Interrupted

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 0.3)
    try:
        with pytest.raises(Interrupted):
            supervisor.stop_all()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert not alive(pid)


def test_names_must_be_unique(tmp_path: Path) -> None:
    spec = ProcessSpec("twin", python("pass"), tmp_path / "twin.log")
    with pytest.raises(ValueError, match="unique"):
        Supervisor([spec, spec])


# ---------------------------------------------------------------- --workers and the stack


def test_worker_counts_read_repeated_and_comma_separated_options() -> None:
    counts = worker_counts(["url-verify=3", "content-check=2, received=1"], WORKERS)
    assert counts == {"url-verify": 3, "content-check": 2, "received": 1}
    assert worker_counts([], WORKERS) == {}


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("url-verfy=2", "unknown worker 'url-verfy'"),
        ("url-verify=0", "must be 1 or more"),
        ("url-verify=-1", "must be 1 or more"),
        ("url-verify=two", "must be 1 or more"),
        ("url-verify", "write NAME=N"),
    ],
)
def test_a_wrong_workers_option_gets_one_line_and_exit_code_1(value: str, said: str) -> None:
    with pytest.raises(ValueError, match=said):
        worker_counts([value], WORKERS)
    result = CliRunner().invoke(app, ["up", "--workers", value])
    assert result.exit_code == 1
    assert said in result.output.replace("\n", "")
    assert "Traceback" not in result.output


def test_the_stack_runs_the_asked_number_of_each_worker_then_the_gateway_and_the_monitor(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path, bootstrap="127.0.0.1:9")
    stack = Stack(settings, Console(), sandbox=False, workers={"url-verify": 3, "ledger": 2})
    specs = {spec.name: spec for spec in stack._processes()}
    expected = [
        instance
        for name in WORKERS
        for instance in instance_names(name, {"url-verify": 3, "ledger": 2}.get(name, 1))
    ]
    assert list(specs) == [*expected, "gateway", "monitor"]
    assert "url-verify-3" in specs and "received" in specs and "ledger-2" in specs
    assert specs["url-verify-2"].command == worker_command("url-verify")
    assert specs["url-verify-2"].log == tmp_path / "logs" / "url-verify-2.log"
    assert specs["received"].log == tmp_path / "logs" / "received.log"
    assert specs["gateway"].command == gateway_command()
    assert specs["monitor"].command == monitor_command()
    assert stack.state_file == tmp_path / "processes.json"
