"""What `hotline up` and `hotline demo` run: the broker (embedded unless one is configured), the
topics, the sandbox internet when asked, and one worker process per stage built so far."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

from rich.console import Console

from pipeline.broker.launcher import BrokerError, EmbeddedKafka, TansuBroker, embedded_broker
from pipeline.cli.stages import WORKERS
from pipeline.cli.workers import gateway_command, worker_command
from pipeline.config import Settings
from pipeline.runtime.lifecycle import StartStop
from pipeline.runtime.topics import create_topics
from pipeline.sandbox import Sandbox

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "reports.jsonl"


class StackError(RuntimeError):
    """The stack could not start (the message says why, for the operator)."""


class Stack(StartStop):
    def __init__(self, settings: Settings, console: Console, *, sandbox: bool) -> None:
        self.settings = settings
        self.console = console
        self.internet = Sandbox() if sandbox else None
        self.bootstrap = settings.bootstrap or ""
        self.env: dict[str, str] = {}
        self.workers: dict[str, subprocess.Popen[bytes]] = {}
        self._own_broker: EmbeddedKafka | TansuBroker | None = None
        self.gateway_url = ""

    def start(self) -> None:
        self.stopped_on_failure(self._start)

    def _start(self) -> None:
        if not self.bootstrap:
            broker = embedded_broker(self.settings)
            if broker.running():  # someone else's: leave it running
                self.bootstrap = broker.bootstrap
            else:
                starting = "starting the embedded broker (the first time fetches Kafka)"
                try:
                    with self.console.status(starting):
                        self.bootstrap = broker.start()
                except BrokerError as error:
                    raise StackError(str(error)) from None
                self._own_broker = broker
        self.console.print(f"broker at [bold]{self.bootstrap}[/]")
        report = asyncio.run(create_topics(self.settings, self.bootstrap))
        self.console.print(
            f"topics: {len(report.created)} created, {len(report.existing)} already there"
        )
        self.env = {**os.environ, "HOTLINE_BOOTSTRAP": self.bootstrap}
        if self.internet is not None:
            self.internet.start()
            self.env |= self.internet.pipeline_env(self.settings.data_dir / "sandbox-banks")
            self.console.print(
                f"sandbox internet: DNS 127.0.0.1:{self.internet.dns_port}, "
                f"{len(self.internet.hosts)} hosts in {self.internet.network} "
                f"on port {self.internet.http_port}"
            )
        # Each worker logs to a file of its own (JSON lines): the terminal stays readable.
        logs = self.settings.data_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        for name in WORKERS:
            with (logs / f"{name}.log").open("ab") as log_file:
                self.workers[name] = subprocess.Popen(
                    worker_command(name), env=self.env, stdout=log_file, stderr=log_file
                )
        self.console.print(f"stages running: {', '.join(self.workers)}; logs in {logs}/")
        self._start_gateway(logs)

    def _start_gateway(self, logs: Path) -> None:
        """The gateway on HOTLINE_GATEWAY_PORT, or on a free port when that one is taken."""
        host = self.env.get("HOTLINE_GATEWAY_HOST", "127.0.0.1")
        port = int(self.env.get("HOTLINE_GATEWAY_PORT", "8080"))
        if not _free(host, port):
            port = _free_port(host)
        self.env["HOTLINE_GATEWAY_PORT"] = str(port)
        with (logs / "gateway.log").open("ab") as log_file:
            self.workers["gateway"] = subprocess.Popen(
                gateway_command(), env=self.env, stdout=log_file, stderr=log_file
            )
        self.gateway_url = f"http://{host}:{port}"
        self.console.print(f"gateway at [bold]{self.gateway_url}/[/] (OpenAPI at /docs)")

    def exited(self) -> list[str]:
        """Stages whose worker has stopped, each with its exit code and log file."""
        logs = self.settings.data_dir / "logs"
        return [
            f"{name} (exit code {worker.returncode}, see {logs / f'{name}.log'})"
            for name, worker in self.workers.items()
            if worker.poll() is not None
        ]

    def samples(self) -> Path:
        """The sample reports, with the sandbox's web port in their URLs when it is not 80."""
        if self.internet is None or self.internet.http_port == 80:
            return SAMPLES
        lines = []
        for line in SAMPLES.read_text().splitlines():
            report = json.loads(line)
            parts = urlsplit(report["url"])
            host = _ascii_host(parts.hostname or "")
            if host.removeprefix("www.") in self.internet.hosts:  # www. is an alias of each
                report["url"] = self.internet.url(host, parts.path or "/")
            lines.append(json.dumps(report, ensure_ascii=False))
        path = self.settings.data_dir / "samples-sandbox.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n")
        return path

    def mailbox(self) -> list[str]:
        """Idempotency keys of the notices the sandbox's SMTP sink received (Message-IDs)."""
        if self.internet is None:
            return []
        keys = []
        for mail in self.internet.mailbox:
            for line in mail.data.split(b"\r\n\r\n", 1)[0].splitlines():
                if line.lower().startswith(b"message-id:"):
                    keys.append(line.split(b":", 1)[1].strip().strip(b"<>").split(b"@")[0].decode())
        return keys

    def stop(self) -> None:
        """Workers first (they commit what they finished), then the sandbox and our broker."""
        for worker in self.workers.values():
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        for name, worker in self.workers.items():
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
            self.console.print(f"stage {name} stopped ({worker.returncode})")
        self.workers = {}
        if self.internet is not None:
            self.internet.stop()
        if self._own_broker is not None:
            self._own_broker.stop()
            self._own_broker = None
            self.console.print("broker stopped")


def _ascii_host(host: str) -> str:
    """The host as the sandbox names it: punycode (a reporter writes жаңалық.қаз)."""
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def _free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])
