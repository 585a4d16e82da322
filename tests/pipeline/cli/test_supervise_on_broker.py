"""`hotline up --workers url-verify=2` on the session broker: a url-verify worker killed with
SIGKILL comes back under a new pid and rejoins its group; Ctrl-C (SIGINT) then stops every
process and `up` exits 0."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka.errors import KafkaError

from tests.fixtures.stage import ROOT, group_members, wait_until

pytestmark = pytest.mark.broker

GROUP = "hotline-url-verify"


def alive(pid: int) -> bool:
    """Running (a zombie, dead but not yet reaped, counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def member_ids(bootstrap: str) -> set[str]:
    """The group's members now; none while its coordinator is still being set up (a fresh
    broker creates its offsets topic on the first question)."""
    try:
        members = group_members(bootstrap, GROUP)
    except KafkaError:
        return set()
    return {str(member["member_id"]) for member in members}  # type: ignore[index]


@pytest.fixture
def up(pipeline_bootstrap: str, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "HOTLINE_BOOTSTRAP": pipeline_bootstrap,
        "HOTLINE_DATA_DIR": str(tmp_path),
        "HOTLINE_GATEWAY_PORT": "0",
        "HOTLINE_LOG_FORMAT": "json",
    }
    with (tmp_path / "up.out").open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "pipeline.cli", "up", "--sandbox", "--workers", "url-verify=2"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        if process.poll() is None:  # the test failed half-way: stop it all the same
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_a_killed_worker_is_restarted_and_ctrl_c_stops_everything(
    up: subprocess.Popen[bytes], pipeline_bootstrap: str, tmp_path: Path
) -> None:
    state_file = tmp_path / "processes.json"

    def processes() -> dict[str, Any]:
        found: dict[str, Any] = json.loads(state_file.read_text())["processes"]
        return found

    def output() -> str:
        return (tmp_path / "up.out").read_text(errors="replace")[-4000:]

    wait_until(lambda: up.poll() is not None or state_file.exists(), 120, "processes.json")
    assert up.poll() is None, output()
    assert {"url-verify-1", "url-verify-2", "received", "gateway", "monitor"} <= set(processes())
    wait_until(lambda: len(member_ids(pipeline_bootstrap)) == 2, 120, "two members")
    before = member_ids(pipeline_bootstrap)
    seen = {name: p["pid"] for name, p in processes().items() if p["pid"]}

    killed = processes()["url-verify-1"]["pid"]
    os.kill(killed, signal.SIGKILL)
    wait_until(lambda: processes()["url-verify-1"]["pid"] not in (None, killed), 60, "a new worker")
    again = processes()["url-verify-1"]
    assert again["restarts"] == 1 and again["last_exit_code"] == -signal.SIGKILL
    seen["url-verify-1 (restarted)"] = again["pid"]
    # The dead member leaves when its session times out; the new one takes its place.
    wait_until(
        lambda: len(ids := member_ids(pipeline_bootstrap)) == 2 and ids != before,
        120,
        "the group back to two members, one of them new",
    )
    assert "url-verify-1 exited (code -9, SIGKILL)" in output()
    assert processes()["url-verify-2"]["restarts"] == 0

    seen |= {name: p["pid"] for name, p in processes().items() if p["pid"]}
    up.send_signal(signal.SIGINT)
    assert up.wait(timeout=90) == 0, output()
    left = {name: pid for name, pid in seen.items() if pid != killed and alive(pid)}
    assert left == {}, output()
    assert not state_file.exists()
    assert "stopped: " in output()
    # Each process logged to its own file.
    logs = tmp_path / "logs"
    assert (logs / "url-verify-1.log").exists() and (logs / "url-verify-2.log").exists()
    assert (logs / "received.log").exists() and (logs / "gateway.log").exists()
