"""Supervision: keep every process of `hotline up` running, and stop them all cleanly.

It runs command lines and knows nothing of Kafka or stages, so it is tested with `python -c`
children. Each process writes stdout and stderr to a log file of its own. One that exits when
nobody asked it to is started again after a wait that doubles from `first_delay` up to
`max_delay`, and starts over once a run lasted `healthy_after`: a worker whose broker is away
keeps coming back without spinning. One that keeps failing right after it starts (a bad
setting, a missing command) is flagged as a crash loop, loudly, and still retried at the
longest wait: it may be waiting for something an operator is about to fix.

Each child leads a process group of its own: Ctrl-C in the terminal reaches the supervisor
alone, which stops the children in the order the stack needs (workers, then the sandbox and the
broker), and whatever a child started (Playwright's driver, Chromium) can be killed with it.

Watching happens on a thread, so a caller busy with something else (`hotline demo` waiting for
its cases) is still supervised. `<data dir>/processes.json` (the `state_file`) says at every
change which process runs under which pid, for operators and tests.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

from pipeline.runtime.lifecycle import StartStop

log = structlog.get_logger("hotline.supervisor")

SPAWN_FAILED = 127  # the exit code recorded when a command could not even be started


@dataclass(frozen=True)
class ProcessSpec:
    name: str  # unique: "url-verify-2", "gateway"
    command: Sequence[str]
    log: Path


@dataclass(frozen=True)
class RestartPolicy:
    first_delay: float = 1.0  # seconds before the first restart
    max_delay: float = 30.0  # the wait doubles up to this
    healthy_after: float = 60.0  # a run at least this long resets the wait
    start_window: float = 10.0  # an exit this soon after the start is a failure to start
    crash_loop: int = 5  # that many failures to start in a row: reported loudly
    stop_timeout: float = 30.0  # seconds from SIGTERM to SIGKILL when stopping


@dataclass(frozen=True)
class Exit:
    """A process ended without being asked to; it is started again in `restart_in` seconds."""

    name: str
    code: int  # negative: killed by that signal
    ran_for: float
    restart_in: float
    failed_starts: int  # exits in a row within the policy's start window
    crash_loop: bool
    log: Path

    def describe(self) -> str:
        how = f"code {self.code}"
        if self.code < 0:
            with contextlib.suppress(ValueError):  # not a signal this system names
                how += f", {signal.Signals(-self.code).name}"
        if self.crash_loop:
            return (
                f"{self.name} keeps failing right after it starts ({self.failed_starts} times in "
                f"a row, last exit {how}); retrying every {self.restart_in:.0f} s; "
                f"see {self.log}"
            )
        return (
            f"{self.name} exited ({how}) after {self.ran_for:.1f} s; "
            f"restarting in {self.restart_in:g} s; see {self.log}"
        )


@dataclass(frozen=True)
class Restart:
    name: str
    pid: int
    restarts: int  # how many times this process has been started again so far


Event = Exit | Restart


@dataclass
class _Child:
    spec: ProcessSpec
    process: subprocess.Popen[bytes] | None = None
    started: float = 0.0  # on the supervisor's clock
    started_at: str = ""  # wall clock, for people
    restarts: int = 0
    delay: float | None = None  # the last wait used; None: the next one is the first
    failed_starts: int = 0
    due: float | None = None  # when to start it again
    last_code: int | None = None
    history: list[float] = field(default_factory=list)  # waits used, for tests and reports


class Supervisor(StartStop):
    def __init__(
        self,
        specs: Sequence[ProcessSpec],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        policy: RestartPolicy | None = None,
        on_event: Callable[[Event], None] | None = None,
        state_file: Path | None = None,
        interval: float = 0.2,
    ) -> None:
        names = [spec.name for spec in specs]
        if len(set(names)) != len(names):
            raise ValueError(f"process names must be unique: {names}")
        self.policy = policy or RestartPolicy()
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.state_file = state_file
        self.interval = interval
        self._on_event = on_event or _log_event
        self._children = {spec.name: _Child(spec) for spec in specs}
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # ---------------------------------------------------------------- running

    def start(self) -> None:
        self.stopped_on_failure(self._start)

    def _start(self) -> None:
        events: list[Event] = []
        with self._lock:
            for child in self._children.values():
                self._spawn(child, time.monotonic(), events)
            self._write_state()
        self._report(events)
        self._thread = threading.Thread(target=self._watch, name="supervisor", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stopping.wait(self.interval):
            self.poll()

    def poll(self) -> None:
        """One round: note the processes that exited, start again those whose wait is over."""
        events: list[Event] = []
        with self._lock:
            if self._stopping.is_set():
                return
            now = time.monotonic()
            for child in self._children.values():
                if child.process is not None:
                    code = child.process.poll()
                    if code is not None:
                        events.append(self._exited(child, code, now))
                elif child.due is not None and child.due <= now:
                    child.restarts += 1
                    self._spawn(child, now, events)
                    if child.process is not None:
                        events.append(Restart(child.spec.name, child.process.pid, child.restarts))
            if events:
                self._write_state()
        self._report(events)

    def _spawn(self, child: _Child, now: float, events: list[Event]) -> None:
        child.due = None
        child.started, child.started_at = now, _utc_now()
        child.spec.log.parent.mkdir(parents=True, exist_ok=True)
        try:
            with child.spec.log.open("ab") as log_file:
                child.process = subprocess.Popen(
                    list(child.spec.command),
                    env=self.env,
                    cwd=self.cwd,
                    stdin=subprocess.DEVNULL,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    process_group=0,  # its own group: see the module doc
                )
        except OSError as error:  # no such program, no file descriptors left...
            with child.spec.log.open("a") as log_file:
                log_file.write(f"supervisor: cannot start {list(child.spec.command)}: {error}\n")
            events.append(self._exited(child, SPAWN_FAILED, now))

    def _exited(self, child: _Child, code: int, now: float) -> Exit:
        policy = self.policy
        ran_for = now - child.started
        if child.process is not None:
            _kill_leftovers(child.process.pid)
        if ran_for >= policy.healthy_after:
            child.delay = None
        delay = (
            policy.first_delay if child.delay is None else min(child.delay * 2, policy.max_delay)
        )
        child.failed_starts = child.failed_starts + 1 if ran_for < policy.start_window else 0
        crash_loop = child.failed_starts >= policy.crash_loop
        if crash_loop:
            delay = policy.max_delay
        child.delay, child.due, child.last_code, child.process = delay, now + delay, code, None
        child.history.append(delay)
        return Exit(
            child.spec.name, code, ran_for, delay, child.failed_starts, crash_loop, child.spec.log
        )

    def _report(self, events: list[Event]) -> None:
        # Outside the lock: a slow terminal must not hold up the supervision.
        for event in events:
            try:
                self._on_event(event)
            except Exception:  # a broken printer must not stop the supervision
                log.exception("supervisor event handler failed", event=repr(event))

    # ---------------------------------------------------------------- looking

    def pids(self) -> dict[str, int]:
        """The processes running now, by name."""
        with self._lock:
            return {
                name: child.process.pid
                for name, child in self._children.items()
                if child.process is not None
            }

    def restarts(self) -> dict[str, int]:
        with self._lock:
            return {name: child.restarts for name, child in self._children.items()}

    def waits(self, name: str) -> list[float]:
        """The waits before each restart of `name` so far, in seconds."""
        with self._lock:
            return list(self._children[name].history)

    # ---------------------------------------------------------------- stopping

    def stop(self) -> None:
        self.stop_all()

    def stop_all(self) -> dict[str, int | None]:
        """SIGTERM to every process, SIGKILL to those still there after the policy's
        `stop_timeout`; their exit codes by name (None: it was not running)."""
        self._stopping.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        with self._lock:
            running = [c.process for c in self._children.values() if c.process is not None]
            for process in running:
                if process.poll() is None:
                    _signal(process.pid, signal.SIGTERM, group=False)
            deadline = time.monotonic() + self.policy.stop_timeout
            try:
                for process in running:
                    try:
                        process.wait(timeout=max(0.0, deadline - time.monotonic()))
                    except subprocess.TimeoutExpired:
                        _signal(process.pid, signal.SIGKILL, group=True)
                        process.wait()
                    _kill_leftovers(process.pid)
            except BaseException:
                # A second Ctrl-C while waiting (`hotline demo`): the children do not get it
                # from the terminal, so kill them now rather than leave them behind.
                for process in running:
                    _signal(process.pid, signal.SIGKILL, group=True)
                    process.wait()
                raise
            codes = {
                name: child.process.returncode if child.process is not None else None
                for name, child in self._children.items()
            }
            for child in self._children.values():
                child.process, child.due = None, None
            if self.state_file is not None:
                self.state_file.unlink(missing_ok=True)  # nothing runs any more
        return codes

    # ---------------------------------------------------------------- state file

    def _write_state(self) -> None:
        if self.state_file is None:
            return
        document: dict[str, Any] = {
            "supervisor_pid": os.getpid(),
            "updated_at": _utc_now(),
            "processes": {
                name: {
                    "pid": child.process.pid if child.process is not None else None,
                    "running": child.process is not None,
                    "started_at": child.started_at,
                    "restarts": child.restarts,
                    "last_exit_code": child.last_code,
                    "log": str(child.spec.log),
                    "command": list(child.spec.command),
                }
                for name, child in self._children.items()
            },
        }
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed: a reader never sees half a file.
        partial = self.state_file.with_name(self.state_file.name + ".tmp")
        partial.write_text(json.dumps(document, indent=2) + "\n")
        os.replace(partial, self.state_file)


def _signal(pid: int, number: signal.Signals, *, group: bool) -> None:
    try:
        if group:
            os.killpg(pid, number)
        else:
            os.kill(pid, number)
    except (ProcessLookupError, PermissionError):
        pass  # already gone


def _kill_leftovers(pid: int) -> None:
    """SIGKILL what is left of a child's process group once the child itself has gone (a
    Chromium it started would otherwise live on, orphaned). Its group id is its pid, which the
    kernel does not hand out again while the group still has members."""
    _signal(pid, signal.SIGKILL, group=True)


def _log_event(event: Event) -> None:
    if isinstance(event, Restart):
        log.info("process restarted", name=event.name, pid=event.pid, restarts=event.restarts)
    elif event.crash_loop:
        log.error("process keeps failing at start", message=event.describe())
    else:
        log.warning("process exited", message=event.describe())


def _utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
