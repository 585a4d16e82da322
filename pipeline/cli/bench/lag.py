"""`hotline bench lag`: the lag monitor's round over six stage groups of twelve partitions each.

On a scratch broker each stage gets a topic of 12 partitions filled with messages and a group
with committed offsets: a third of its partitions caught up, the others behind. Before each
timed round (and outside its time) the groups that are behind commit one message more and one
more arrives, as in a pipeline that works: every round then reads every offset, the members,
and fetches the first unconsumed message of each partition behind (none is known from the
round before). `round_ms` is the median round; `cpu_share_at_5s_interval` is this process's
CPU time per round plus its CPU time while idle between rounds (the clients stay open), over
the 5 s interval.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from rich.console import Console

from pipeline.cli.bench.scratch import scratch_broker
from pipeline.cli.stages import STAGE_MODULES
from pipeline.config import Settings
from pipeline.ledger.store import Ledger
from pipeline.monitor.groups import Watched
from pipeline.monitor.options import MonitorOptions
from pipeline.monitor.rounds import LagMonitor
from pipeline.runtime.kafka_io import kafka_producer
from pipeline.runtime.topics import dead_letter_topic

GOAL_ROUND_MS = 200.0
GOAL_CPU_SHARE = 0.02
INTERVAL_S = 5.0
_IDLE_S = 3.0
_VALUE = b"x" * 800


def _topic(stage: str) -> str:
    return f"bench.lag.{stage}"


def _behind(partition: int) -> bool:
    return partition % 3 != 0


async def _fill(settings: Settings, bootstrap: str, stages: list[str], partitions: int,
                messages: int) -> None:  # fmt: skip
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(_topic(s), partitions, 1) for s in stages])
    finally:
        await admin.close()
    async with kafka_producer(settings, bootstrap) as producer:
        sent = [
            await producer.send(_topic(s), _VALUE, key=b"k", partition=p)
            for s in stages
            for p in range(partitions)
            for _ in range(messages)
        ]
        await asyncio.gather(*sent)


async def _groups(
    bootstrap: str, stages: list[str], partitions: int
) -> dict[str, tuple[AIOKafkaConsumer, dict[TopicPartition, int]]]:
    """Each stage's group with its offsets committed: caught up, or some messages behind."""
    groups = {}
    for stage in stages:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, group_id=f"hotline-bench-{stage}", enable_auto_commit=False
        )
        await consumer.start()
        tps = [TopicPartition(_topic(stage), p) for p in range(partitions)]
        consumer.assign(tps)
        consumer.pause(*tps)  # it only commits: fetching would add to the rounds' CPU
        ends = await consumer.end_offsets(tps)
        offsets = {tp: ends[tp] - (20 if _behind(tp.partition) else 0) for tp in tps}
        await consumer.commit(offsets)
        groups[stage] = (consumer, offsets)
    return groups


async def _step(settings: Settings, producer: Any, groups: dict[str, Any]) -> None:
    """One message more consumed and one more arrived on every partition behind."""
    for consumer, offsets in groups.values():
        behind = {tp: offset + 1 for tp, offset in offsets.items() if _behind(tp.partition)}
        offsets.update(behind)
        await consumer.commit(behind)
        await asyncio.gather(
            *[await producer.send(tp.topic, _VALUE, key=b"k", partition=tp.partition)
              for tp in behind]
        )  # fmt: skip


async def _close(groups: dict[str, Any]) -> None:
    while groups:
        consumer, _ = groups.popitem()[1]
        await consumer.stop()


async def run_lag_bench(
    settings: Settings, console: Console, rounds: int = 20, partitions: int = 12,
    messages: int = 100,
) -> dict[str, Any]:  # fmt: skip
    stages = list(STAGE_MODULES)
    async with scratch_broker(settings, console) as bench:
        bootstrap = bench.bootstrap or ""
        console.print(f"{len(stages)} topics of {partitions} partitions, {messages} messages each")
        await _fill(bench, bootstrap, stages, partitions, messages)
        groups = await _groups(bootstrap, stages, partitions)
        watched = [
            Watched(f"hotline-bench-{s}", s, (_topic(s),), (), dead_letter_topic(s)) for s in stages
        ]
        options = MonitorOptions(monitor_interval=INTERVAL_S, monitor_window=6)
        ledger = Ledger.from_settings(bench)
        monitor = LagMonitor(bench, bootstrap, watched, options, ledger=ledger)
        times_ms, cpu_s = [], []
        try:
            async with monitor:
                started = time.perf_counter()
                await monitor.round()  # metadata, coordinators, connections: once
                first_ms = (time.perf_counter() - started) * 1000
                console.print(f"first round {first_ms:.0f} ms; timing {rounds} rounds")
                async with kafka_producer(bench, bootstrap) as producer:
                    for _ in range(rounds):
                        await _step(bench, producer, groups)
                        cpu, started = time.process_time(), time.perf_counter()
                        snapshot = await monitor.round()
                        times_ms.append((time.perf_counter() - started) * 1000)
                        cpu_s.append(time.process_time() - cpu)
                # Between rounds only the monitor's clients are open, as in its process.
                await _close(groups)
                idle_cpu = time.process_time()
                await asyncio.sleep(_IDLE_S)
                idle_cpu_per_s = (time.process_time() - idle_cpu) / _IDLE_S
        finally:
            await _close(groups)
            ledger.close()
    round_ms = statistics.median(times_ms)
    cpu_per_round = statistics.median(cpu_s)
    share = (cpu_per_round + idle_cpu_per_s * max(INTERVAL_S - round_ms / 1000, 0)) / INTERVAL_S
    fetched = sum(1 for g in snapshot.groups for p in g.partitions if p.lag)
    return {
        "groups": len(watched),
        "partitions": sum(len(g.partitions) for g in snapshot.groups),
        "partitions_behind": fetched,
        "rounds": rounds,
        "first_round_ms": round(first_ms, 1),
        "round_ms": round(round_ms, 1),
        "round_ms_max": round(max(times_ms), 1),
        "cpu_ms_per_round": round(cpu_per_round * 1000, 1),
        "idle_cpu_ms_per_s": round(idle_cpu_per_s * 1000, 2),
        "cpu_share_at_5s_interval": round(share, 4),
        "statuses": dict(Counter(g.status for g in snapshot.groups)),
        "goal_round_ms": GOAL_ROUND_MS,
        "goal_cpu_share": GOAL_CPU_SHARE,
        "meets_goals": round_ms < GOAL_ROUND_MS and share < GOAL_CPU_SHARE,
    }
