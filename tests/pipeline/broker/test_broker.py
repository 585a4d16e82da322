"""The embedded brokers, for real: Apache Kafka from Maven jars and the Tansu binary."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from kafka import KafkaAdminClient
from kafka.admin import NewTopic

from pipeline.broker.launcher import (
    BrokerError,
    EmbeddedKafka,
    TansuBroker,
    _port_open,
    embedded_broker,
    wait_until_answers,
)
from pipeline.config import Settings
from tests.fixtures.broker import ExternalKafka, needs_own_broker

ROOT = Path(__file__).resolve().parents[3]


def create_topic(bootstrap: str, partitions: int = 1) -> str:
    name = f"test-broker-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics([NewTopic(name, partitions, 1)])
    finally:
        admin.close()
    return name


async def produce(bootstrap: str, topic: str, values: list[bytes]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=0, max_batch_size=1)
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value)
    finally:
        await producer.stop()


async def read(bootstrap: str, topic: str, count: int, timeout: float = 20.0) -> list[bytes]:
    """The first `count` values of partition 0, read without a consumer group."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, 0)])
        await consumer.seek_to_beginning()
        values: list[bytes] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(values) < count and loop.time() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                values.extend(r.value for r in records if r.value is not None)
        return values
    finally:
        await consumer.stop()


def roundtrip(bootstrap: str) -> None:
    topic = create_topic(bootstrap)
    values = [f"report-{i}".encode() for i in range(3)]
    asyncio.run(produce(bootstrap, topic, values))
    assert asyncio.run(read(bootstrap, topic, 3)) == values


# -- the session's Kafka (embedded or HOTLINE_BOOTSTRAP) ---------------------------------------


@pytest.mark.broker
def test_session_kafka_answers(kafka: EmbeddedKafka | ExternalKafka, bootstrap: str) -> None:
    assert bootstrap.startswith("127.0.0.1:") or isinstance(kafka, ExternalKafka)
    assert kafka.running()
    wait_until_answers(bootstrap, timeout=10)
    roundtrip(bootstrap)


# -- a Kafka of our own, in its own data dir, so the session's broker is not disturbed ---------


@pytest.fixture(scope="module")
def stale_pid() -> int:
    """The pid of a process that has exited, as a broker that died would leave behind."""
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return int(done.stdout)


@pytest.fixture(scope="module")
def own_kafka(tmp_path_factory: pytest.TempPathFactory, stale_pid: int) -> Iterator[EmbeddedKafka]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("own-kafka"), broker="kafka", kafka_port=0)
    broker = EmbeddedKafka(settings)
    broker.home.mkdir(parents=True, exist_ok=True)
    broker.pid_file.write_text(f"{stale_pid}\n")
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@needs_own_broker
@pytest.mark.broker
def test_stale_pid_file_is_replaced(own_kafka: EmbeddedKafka, stale_pid: int) -> None:
    assert own_kafka.running()
    assert own_kafka.pid not in (None, stale_pid)
    assert int(own_kafka.pid_file.read_text()) == own_kafka.pid


@needs_own_broker
@pytest.mark.broker
def test_second_start_on_same_data_dir_is_refused(own_kafka: EmbeddedKafka) -> None:
    other = EmbeddedKafka(own_kafka.settings)
    expected = f"already running at {own_kafka.bootstrap} (pid {own_kafka.pid})"
    with pytest.raises(BrokerError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        other.start()
    assert own_kafka.running()  # the refusal left the running broker alone


@needs_own_broker
@pytest.mark.broker
@pytest.mark.timeout(300)
def test_messages_survive_a_restart(own_kafka: EmbeddedKafka) -> None:
    bootstrap = own_kafka.bootstrap
    topic = create_topic(bootstrap)
    values = [b"case-1", b"case-2", b"case-3"]
    asyncio.run(produce(bootstrap, topic, values))

    # Stop it from another process that only has the same settings (as `hotline down` would).
    code = (
        "from pathlib import Path; from pipeline.broker.launcher import EmbeddedKafka; "
        "from pipeline.config import Settings; "
        f"EmbeddedKafka(Settings(data_dir=Path({str(own_kafka.settings.data_dir)!r}))).stop()"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)
    assert not own_kafka.running()
    assert not own_kafka.pid_file.exists()
    host, port = bootstrap.split(":")
    assert not _port_open(host, int(port))

    assert own_kafka.start() == bootstrap  # same port: remembered in ports.json
    assert asyncio.run(read(bootstrap, topic, 3)) == values


def test_missing_java_says_how_to_get_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    broker = EmbeddedKafka(Settings(data_dir=tmp_path, kafka_port=0))
    with pytest.raises(BrokerError) as err:
        broker.start(timeout=5)
    message = str(err.value)
    assert "`java`" in message
    assert "apt-get install openjdk-17-jre-headless maven" in message
    assert "HOTLINE_BROKER=tansu" in message
    assert "HOTLINE_BOOTSTRAP" in message
    assert not broker.pid_file.exists()


def test_embedded_broker_follows_settings(tmp_path: Path) -> None:
    assert isinstance(embedded_broker(Settings(data_dir=tmp_path, broker="kafka")), EmbeddedKafka)
    assert isinstance(embedded_broker(Settings(data_dir=tmp_path, broker="tansu")), TansuBroker)


# -- Tansu --------------------------------------------------------------------------------------


@needs_own_broker
@pytest.mark.broker
def test_tansu_produces_consumes_and_stops(tansu: TansuBroker) -> None:
    assert tansu.running()
    bootstrap = tansu.bootstrap
    roundtrip(bootstrap)

    with pytest.raises(BrokerError, match="already running"):
        TansuBroker(tansu.settings).start()

    tansu.stop()
    assert not tansu.running()
    assert not tansu.pid_file.exists()
    host, port = bootstrap.split(":")
    assert not _port_open(host, int(port))
    tansu.stop()  # stopping a stopped broker is harmless


@needs_own_broker
@pytest.mark.broker
def test_tansu_context_manager(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, broker="tansu", kafka_port=0)
    with TansuBroker(settings) as broker:
        assert broker.running()
        pid = broker.pid
        assert pid is not None
    assert not broker.running()
    assert not os.path.exists(f"/proc/{pid}")  # reaped, not a zombie


def test_a_pid_file_naming_another_program_is_stale(tmp_path: Path) -> None:
    """A reused pid (here: this test's own process) must not pass for a running broker, and
    `stop()` must never signal it."""
    broker = TansuBroker(Settings(data_dir=tmp_path, broker="tansu", kafka_port=0))
    broker.home.mkdir(parents=True)
    broker.pid_file.write_text(f"{os.getpid()}\n")
    assert not broker.running()
    assert not broker.pid_file.exists()
    broker.pid_file.write_text(f"{os.getpid()}\n")
    broker.stop()  # we are still alive to assert this
    assert not broker.pid_file.exists()


def test_a_broker_that_dies_while_starting_is_reported_with_its_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "bin").mkdir()
    fake = tmp_path / "bin" / "tansu"
    fake.write_text("#!/bin/sh\necho 'error: cannot open storage' >&2\nexit 3\n")
    fake.chmod(0o644)  # not executable: tansu_binary() fixes the mode bit
    monkeypatch.setenv("CALF_TANSU_BIN", str(fake))
    broker = TansuBroker(Settings(data_dir=tmp_path, broker="tansu", kafka_port=0))
    with pytest.raises(BrokerError) as err:
        broker.start(timeout=10)
    assert "exited with code 3" in str(err.value)
    assert "error: cannot open storage" in str(err.value)
    assert not broker.running()
    assert not broker.pid_file.exists()


@needs_own_broker
@pytest.mark.broker
@pytest.mark.timeout(300)
def test_concurrent_starts_on_one_data_dir_start_one_broker(tmp_path: Path) -> None:
    """Three processes start the same fresh data dir at once: one broker, two clear refusals.

    (Regression: a waiting starter used to read the new pid while the kernel still showed an
    empty command line, took it for a stale pid and started a second JVM on the same log.)
    """
    code = (
        "import sys; from pathlib import Path; from pipeline.broker.launcher import *; "
        "from pipeline.config import Settings\n"
        "try: print('started', EmbeddedKafka(Settings(data_dir=Path(sys.argv[1]))).start(60))\n"
        "except BrokerError as e: print('refused', e)\n"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    broker = EmbeddedKafka(Settings(data_dir=tmp_path))
    try:
        assert sum(out.startswith("started") for out in outputs) == 1, outputs
        assert sum("already running at" in out for out in outputs) == 2, outputs
        assert broker.running()
        roundtrip(broker.bootstrap)
    finally:
        broker.stop()
    assert not broker.running()
