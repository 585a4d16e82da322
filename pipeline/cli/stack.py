"""What `hotline up` and `hotline demo` run: the broker (embedded unless one is configured), the
topics, the sandbox internet when asked, and under supervision (pipeline/cli/supervise.py) the
worker processes of every stage and side service (one each unless told otherwise), the gateway
and the lag monitor."""

from __future__ import annotations

import asyncio
import json
import os
import socket
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from rich.console import Console
from rich.markup import escape

from pipeline.broker.launcher import BrokerError, EmbeddedKafka, TansuBroker, embedded_broker
from pipeline.cli.stages import WORKERS
from pipeline.cli.supervise import Event, Exit, ProcessSpec, RestartPolicy, Supervisor
from pipeline.cli.workers import gateway_command, monitor_command, worker_command
from pipeline.config import Settings
from pipeline.runtime.lifecycle import StartStop
from pipeline.runtime.topics import create_topics
from pipeline.sandbox import Sandbox

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "reports.jsonl"


class StackError(RuntimeError):
    """The stack could not start (the message says why, for the operator)."""


def instance_names(name: str, count: int) -> list[str]:
    """`url-verify` for one process, `url-verify-1` … `url-verify-N` for several."""
    return [name] if count == 1 else [f"{name}-{i}" for i in range(1, count + 1)]


class Stack(StartStop):
    def __init__(
        self,
        settings: Settings,
        console: Console,
        *,
        sandbox: bool,
        workers: Mapping[str, int] | None = None,
        policy: RestartPolicy | None = None,
    ) -> None:
        self.settings = settings
        self.console = console
        self.internet = Sandbox() if sandbox else None
        self.bootstrap = settings.bootstrap or ""
        self.env: dict[str, str] = {}
        self.counts = {name: (workers or {}).get(name, 1) for name in WORKERS}
        self.policy = policy
        self.supervisor: Supervisor | None = None
        self._own_broker: EmbeddedKafka | TansuBroker | None = None
        self.gateway_url = ""
        self.logs = settings.data_dir / "logs"
        self.state_file = settings.data_dir / "processes.json"

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
        self.gateway_url = self._gateway_url()
        self.logs.mkdir(parents=True, exist_ok=True)
        # Each process logs to a file of its own (JSON lines): the terminal stays readable.
        self.supervisor = Supervisor(
            self._processes(),
            env=self.env,
            policy=self.policy,
            on_event=self._print_event,
            state_file=self.state_file,
        )
        self.supervisor.start()
        running = ", ".join(
            name if count == 1 else f"{name} x{count}" for name, count in self.counts.items()
        )
        self.console.print(f"workers running: {running}; logs in {self.logs}/")
        self.console.print(
            f"gateway at [bold]{self.gateway_url}/[/] (OpenAPI at /docs), "
            f"dashboard at [bold]{self.gateway_url}/dashboard[/]; lag monitor started"
        )

    def _processes(self) -> list[ProcessSpec]:
        specs = [
            ProcessSpec(instance, worker_command(name), self.logs / f"{instance}.log")
            for name, count in self.counts.items()
            for instance in instance_names(name, count)
        ]
        specs.append(ProcessSpec("gateway", gateway_command(), self.logs / "gateway.log"))
        specs.append(ProcessSpec("monitor", monitor_command(), self.logs / "monitor.log"))
        return specs

    def _gateway_url(self) -> str:
        """The gateway on HOTLINE_GATEWAY_PORT; on a free port when that one is taken or is 0,
        chosen here so that a restarted gateway comes back at the same address."""
        host = self.env.get("HOTLINE_GATEWAY_HOST", "127.0.0.1")
        port = int(self.env.get("HOTLINE_GATEWAY_PORT", "8080"))
        if port == 0 or not _free(host, port):
            port = _free_port(host)
        self.env["HOTLINE_GATEWAY_PORT"] = str(port)
        return f"http://{host}:{port}"

    def _print_event(self, event: Event) -> None:
        """Every exit and restart on the terminal, and as a JSON line in logs/supervisor.log."""
        if isinstance(event, Exit):
            style = "bold red" if event.crash_loop else "yellow"
            self.console.print(f"[{style}]{escape(event.describe())}[/]")
            record = {"event": "process exited", "message": event.describe(), "code": event.code}
        else:
            self.console.print(f"{event.name} restarted (pid {event.pid})")
            record = {"event": "process restarted", "pid": event.pid, "restarts": event.restarts}
        record |= {"name": event.name, "timestamp": datetime.now(UTC).isoformat()}
        with (self.logs / "supervisor.log").open("a") as log_file:
            log_file.write(json.dumps(record) + "\n")

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
        """Every process first (workers commit what they finished), then the sandbox and our
        broker."""
        if self.supervisor is not None:
            codes = self.supervisor.stop_all()
            self.supervisor = None
            stopped = ", ".join(
                f"{name} (down, waiting to restart)"
                if code is None
                else f"{name} ({code})"
                if code == 0
                else f"[yellow]{name} ({code})[/]"
                for name, code in codes.items()
            )
            self.console.print(f"stopped: {stopped}")
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
