"""The lag monitor on the session broker: a stage stopped and started again, a group rewound,
a member that holds its partitions without committing, and the monitor process publishing.

The broker is shared by the whole suite: each test reads its own group's status only."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from pipeline.broker.launcher import TansuBroker
from pipeline.cli.stages import WORKERS, watched_groups
from pipeline.config import Settings
from pipeline.monitor.feed import latest_snapshot
from pipeline.monitor.groups import Watched
from pipeline.monitor.options import MonitorOptions
from pipeline.monitor.rounds import LagMonitor
from pipeline.runtime.topics import INTAKE, dead_letter_topic
from schemas.monitor import GroupLag, LagSnapshot
from tests.builders import encode, report
from tests.fixtures.stage import ROOT, StageWorkerFactory, wait_until

pytestmark = pytest.mark.broker

WINDOW = 3


class Rounds:
    """A monitor kept open on its own event loop, a round per call, so its window fills."""

    def __init__(self, bootstrap: str, watched: list[Watched]) -> None:
        self.loop = asyncio.new_event_loop()
        options = MonitorOptions(monitor_window=WINDOW, monitor_interval=0.5)
        self.monitor = LagMonitor(
            Settings(bootstrap=bootstrap), bootstrap, watched, options, follow_outputs=False
        )
        self.loop.run_until_complete(self.monitor.start())
        self.last: LagSnapshot | None = None

    def group(self, name: str) -> GroupLag:
        self.last = self.loop.run_until_complete(self.monitor.round())
        [found] = [g for g in self.last.groups if g.group == name]
        return found

    def close(self) -> None:
        self.loop.run_until_complete(self.monitor.stop())
        self.loop.close()


@pytest.fixture
def rounds() -> Iterator[list[Rounds]]:
    opened: list[Rounds] = []
    yield opened
    for one in opened:
        one.close()


def publish(bootstrap: str, topic: str, values: list[bytes], partition: int | None = None) -> None:
    async def send() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
        await producer.start()
        try:
            for value in values:
                await producer.send_and_wait(topic, value, partition=partition)
        finally:
            await producer.stop()

    asyncio.run(send())


def reports(tag: str, count: int) -> list[bytes]:
    return [encode(report(url=f"https://lag-{tag}-{n}.kz/page")) for n in range(count)]


def scratch_topic(bootstrap: str, partitions: int = 2) -> str:
    name = f"test.monitor.{uuid.uuid4().hex[:10]}"

    async def create() -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            await admin.create_topics([NewTopic(name, partitions, 1)])
        finally:
            await admin.close()

    asyncio.run(create())
    return name


def commit(bootstrap: str, group: str, offsets: dict[TopicPartition, int]) -> None:
    """Commit for a group with no live member (as an operator's reset does)."""

    async def run() -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
        )
        await consumer.start()
        try:
            consumer.assign(list(offsets))
            await consumer.commit(offsets)
        finally:
            await consumer.stop()

    asyncio.run(run())


def own(group: str, topic: str) -> Watched:
    return Watched(group, "test", (topic,), (), dead_letter_topic("received"))


def test_a_stopped_stage_is_stop_and_ok_again_once_restarted(
    pipeline_bootstrap: str, stage_worker: StageWorkerFactory, rounds: list[Rounds]
) -> None:
    [received] = [w for w in watched_groups() if w.stage == "received"]
    monitor = Rounds(pipeline_bootstrap, [received])
    rounds.append(monitor)
    tag = uuid.uuid4().hex[:8]
    worker = stage_worker("received")
    publish(pipeline_bootstrap, INTAKE, reports(tag, 20))

    def caught_up() -> bool:
        group = monitor.group(received.group)
        return group.members > 0 and group.lag == 0 and group.status == "OK"

    wait_until(caught_up, 180, "the received worker to consume every report")
    assert worker.stop() == 0
    publish(pipeline_bootstrap, INTAKE, reports(f"{tag}-late", 10))  # arriving meanwhile
    wait_until(lambda: monitor.group(received.group).status == "STOP", 120, "STOP")
    stopped = monitor.group(received.group)
    assert stopped.members == 0 and stopped.lag >= 10
    behind = [p for p in stopped.partitions if p.lag]
    assert behind and all(p.status == "STOP" and p.lag_seconds > 0 for p in behind)

    stage_worker("received")

    def recovered() -> bool:
        group = monitor.group(received.group)
        return group.status == "OK" and group.lag == 0 and group.members > 0

    wait_until(recovered, 180, "the restarted worker to catch up")
    assert all(p.lag_seconds == 0 for p in monitor.group(received.group).partitions)


def test_a_rewound_group_is_rewind(pipeline_bootstrap: str, rounds: list[Rounds]) -> None:
    topic = scratch_topic(pipeline_bootstrap)
    group = f"test-monitor-{uuid.uuid4().hex[:8]}"
    for partition in (0, 1):
        publish(pipeline_bootstrap, topic, [b"m"] * 5, partition=partition)
    ends = {TopicPartition(topic, p): 5 for p in (0, 1)}
    commit(pipeline_bootstrap, group, ends)
    monitor = Rounds(pipeline_bootstrap, [own(group, topic)])
    rounds.append(monitor)
    first = monitor.group(group)
    assert (first.status, first.lag, first.members) == ("OK", 0, 0)
    assert {p.committed_offset for p in first.partitions} == {5}

    commit(pipeline_bootstrap, group, {TopicPartition(topic, 0): 0})  # a replay from the start
    rewound = monitor.group(group)
    assert rewound.status == "REWIND" and rewound.lag == 5
    [replayed] = [p for p in rewound.partitions if p.partition == 0]
    assert replayed.status == "REWIND" and replayed.lag_seconds > 0


def test_a_member_holding_partitions_without_committing_is_stall(
    pipeline_bootstrap: str, rounds: list[Rounds]
) -> None:
    topic = scratch_topic(pipeline_bootstrap)
    group = f"test-monitor-{uuid.uuid4().hex[:8]}"
    publish(pipeline_bootstrap, topic, [b"m"] * 3, partition=1)
    monitor = Rounds(pipeline_bootstrap, [own(group, topic)])
    rounds.append(monitor)
    # Never committed, nobody there, messages waiting: stopped from the first round.
    assert monitor.group(group).status == "STOP"

    leave = threading.Event()

    async def hold() -> None:
        """A member of the group that takes its partitions and never commits."""
        member = AIOKafkaConsumer(
            topic, bootstrap_servers=pipeline_bootstrap, group_id=group, enable_auto_commit=False
        )
        await member.start()
        try:
            while not leave.is_set():
                await asyncio.sleep(0.1)
        finally:
            await member.stop()

    holder = threading.Thread(target=asyncio.run, args=(hold(),))
    holder.start()
    try:
        wait_until(lambda: monitor.group(group).members == 1, 60, "the member to join")
        wait_until(lambda: monitor.group(group).status == "STALL", 60, "STALL")
        stalled = monitor.group(group)
        assert stalled.lag == 3 and stalled.rate_per_s == 0
    finally:
        leave.set()
        holder.join(timeout=60)
    wait_until(lambda: monitor.group(group).status == "STOP", 60, "STOP once it left")


def test_the_monitor_process_publishes_snapshots(pipeline_bootstrap: str, tmp_path: Path) -> None:
    started = datetime.now(UTC)
    log = tmp_path / "monitor.log"
    env = {
        **os.environ,
        "HOTLINE_BOOTSTRAP": pipeline_bootstrap,
        "HOTLINE_DATA_DIR": str(tmp_path / "data"),
        "HOTLINE_MONITOR_INTERVAL": "0.5",
        "HOTLINE_LOG_FORMAT": "json",
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "pipeline.cli", "monitor"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    seen: list[LagSnapshot] = []

    def published(count: int) -> bool:
        latest = asyncio.run(latest_snapshot(pipeline_bootstrap))
        if latest is not None and latest.at > started and latest not in seen:
            seen.append(latest)
        return len(seen) >= count

    try:
        wait_until(lambda: published(2), 120, "two snapshots on hotline.monitor")
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=60)
    assert code == 0, log.read_text()
    snapshot = seen[-1]
    assert [g.group for g in snapshot.groups] == [f"hotline-{name}" for name in WORKERS]
    assert snapshot.interval_s == 0.5 and snapshot.window == 6
    assert {s.stage for s in snapshot.stages} >= set(WORKERS)
    text = log.read_text()
    assert '"group status"' in text and '"monitor stopped"' in text


def test_the_monitor_reads_tansu_through_a_consumer_per_group(tansu: TansuBroker) -> None:
    """Tansu answers the admin's OffsetFetch in a shape aiokafka cannot decode: the committed
    offsets come from a consumer of each group instead (`offsets_by_consumer`)."""
    bootstrap = tansu.bootstrap
    topic = scratch_topic(bootstrap)
    group = f"test-monitor-{uuid.uuid4().hex[:8]}"
    publish(bootstrap, topic, [b"m"] * 4, partition=0)  # one record a batch, as Tansu needs
    commit(bootstrap, group, {TopicPartition(topic, 0): 1})

    async def judge() -> GroupLag:
        settings = Settings(bootstrap=bootstrap, broker="tansu")
        async with LagMonitor(settings, bootstrap, [own(group, topic)], follow_outputs=False) as m:
            assert m.sampler.offsets_by_consumer
            [found] = (await m.round()).groups
            return found

    found = asyncio.run(judge())
    [first, second] = sorted(found.partitions, key=lambda p: p.partition)
    assert (first.committed_offset, first.latest_offset, first.lag) == (1, 4, 3)
    assert first.lag_seconds > 0 and first.status == "STOP"
    assert (second.committed_offset, second.lag, second.status) == (None, 0, "OK")
    assert found.members == 0 and found.status == "STOP"
