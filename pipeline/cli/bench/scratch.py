"""What every benchmark stands on: a scratch broker, publishing inputs, timing outputs, and
stage workers started as an operator starts them."""

from __future__ import annotations

import asyncio
import os
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from aiokafka import AIOKafkaConsumer
from rich.console import Console

from pipeline.broker.launcher import embedded_broker
from pipeline.cli.workers import worker_command
from pipeline.config import Settings
from pipeline.runtime.kafka_io import kafka_producer
from pipeline.runtime.topics import create_topics


async def publish(
    settings: Settings, bootstrap: str, topic: str, reports: list[tuple[bytes, bytes]]
) -> None:
    async with kafka_producer(settings, bootstrap) as producer:
        pending = [await producer.send(topic, value, key=key) for key, value in reports]
        await asyncio.gather(*pending)


async def output_span(
    bootstrap: str,
    topics: list[str],
    expected: int,
    timeout: float,
    on_first: Callable[[], None] | None = None,
) -> float:
    """Seconds between the first and the last record of `topics` once `expected` are there;
    `on_first` is called when the first records are read (to start a measurement there)."""
    consumer = AIOKafkaConsumer(
        *topics, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    first, last, seen = None, 0, 0
    deadline = time.monotonic() + timeout
    try:
        while seen < expected:
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {seen} of {expected} outputs within {timeout}s")
            batches = (await consumer.getmany(timeout_ms=500, max_records=10_000)).values()
            if batches and first is None and on_first is not None:
                on_first()
            for batch in batches:
                for record in batch:
                    first = record.timestamp if first is None else min(first, record.timestamp)
                    last = max(last, record.timestamp)
                seen += len(batch)
    finally:
        await consumer.stop()
    return max((last - (first or last)) / 1000, 0.001)


@asynccontextmanager
async def scratch_broker(settings: Settings, console: Console) -> AsyncIterator[Settings]:
    """A throw-away embedded broker with every topic, so benchmarks never mix with real cases."""
    with tempfile.TemporaryDirectory(prefix="hotline-bench-") as scratch:
        bench_settings = settings.model_copy(
            update={"data_dir": Path(scratch), "bootstrap": None, "kafka_port": 0}
        )
        broker = embedded_broker(bench_settings)
        with console.status("starting a scratch broker for the benchmark"):
            bootstrap = broker.start()
        try:
            await create_topics(bench_settings, bootstrap)
            yield bench_settings.model_copy(update={"bootstrap": bootstrap})
        finally:
            broker.stop()


def start_stage(settings: Settings, stage: str, **env: str) -> subprocess.Popen[bytes]:
    return start_worker(settings, worker_command(stage), **env)


def start_worker(settings: Settings, command: list[str], **env: str) -> subprocess.Popen[bytes]:
    """A worker process on the scratch broker, logging warnings only (to nowhere)."""
    assert settings.bootstrap is not None
    return subprocess.Popen(
        command,
        env={
            **os.environ,
            "HOTLINE_BOOTSTRAP": settings.bootstrap,
            "HOTLINE_DATA_DIR": str(settings.data_dir),
            "HOTLINE_BROKER": settings.broker,
            "HOTLINE_LOG_LEVEL": "warning",
            **env,
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    # The command name (field 2) may hold spaces: count the fields after its closing ")".
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU time of each process between `start` (the first output) and `stop` (the last):
    start-up and group joins are left out, as they are of the rate."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self._started: dict[str, float] = {}
        self.used: dict[str, float] = {}

    def start(self) -> None:
        self._started = {name: cpu_seconds(pid) for name, pid in self.pids.items()}

    def stop(self) -> None:
        self.used = {
            name: cpu_seconds(pid) - self._started[name] for name, pid in self.pids.items()
        }


async def timed_workers(
    settings: Settings, stages: list[str], outputs: list[str], expected: int, env: dict[str, str],
    here: str,
) -> tuple[float, dict[str, float]]:  # fmt: skip
    """Run a worker of each of `stages` until `expected` records are on `outputs`: the span
    between the first and the last, and the CPU seconds each process used over it (the
    workers, the broker, and this one, named `here`: what it serves shares the cores)."""
    workers = {stage: start_stage(settings, stage, **env) for stage in stages}
    pids = {stage: worker.pid for stage, worker in workers.items()}
    pids[here] = os.getpid()
    broker_pid = embedded_broker(settings).pid
    if broker_pid is not None:
        pids["broker"] = broker_pid
    cpu = CpuMeter(pids)
    try:
        span = await output_span(
            settings.bootstrap or "", outputs, expected, timeout=900, on_first=cpu.start
        )
        cpu.stop()
    finally:
        for worker in workers.values():
            worker.terminate()
        for worker in workers.values():
            worker.wait(timeout=60)
    return span, cpu.used


def per_item_ms(used: dict[str, float], count: int) -> dict[str, float]:
    return {name: round(seconds * 1000 / count, 2) for name, seconds in used.items()}
