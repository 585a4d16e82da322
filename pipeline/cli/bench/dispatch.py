"""`hotline bench dispatch`: the delivery worker mailing notices to the sandbox's SMTP sink,
which takes `latency` seconds per message, C notices in flight.

`notices` e-mail notices (three per case, each to its own mailbox) are published to
`hotline.notices`; one delivery worker with `HOTLINE_CONCURRENCY=C` sends them over at most C
reused SMTP connections. The bound is what waiting alone allows, C / latency; the rate achieved
is the receipts over the span between the first and the last; `ratio` is one over the other.
CPU per notice of the worker, the broker and this process (the sink, the reader) is printed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from rich.console import Console

from pipeline.cli.bench.scratch import per_item_ms, publish, scratch_broker, timed_workers
from pipeline.config import Settings
from pipeline.runtime.topics import DELIVERIES, NOTICES
from pipeline.sandbox import Sandbox
from schemas.dispatch import Notice
from schemas.jurisdiction import Recipient

TARGET_RATIO = 0.70
_PER_CASE = 3


def notices_for_sink(prefix: str, count: int) -> list[tuple[bytes, bytes]]:
    """`count` e-mail notices, keyed by case id as dispatch writes them, each to a mailbox of
    its own (any address reaches the sandbox's sink)."""
    now = datetime.now(UTC)
    made = []
    for n in range(count):
        case_id = f"{prefix}-{n // _PER_CASE:06d}"
        address = f"abuse-{n}@sink.kz.test"
        recipient = Recipient(kind="hosting", name=f"Host {n}", channel="email", address=address,
                              language="ru", source="bench")  # fmt: skip
        notice = Notice(
            idempotency_key=f"{prefix.lower()}{n:010d}".replace("-", ""),
            case_id=case_id,
            kind="takedown_request",
            recipient=recipient,
            rule="bench",
            basis="benchmark",
            category="hate",
            url=f"http://site-{n}.kz/",
            host=f"site-{n}.kz",
            issued_at=now,
            deadline=now + timedelta(hours=48),
            language="ru",
            subject=f"[{case_id}] Требование об удалении противоправного контента",
            body="Требование об удалении противоправного контента.\n" * 20,
        )
        made.append((case_id.encode(), notice.model_dump_json().encode()))
    return made


async def run_dispatch_bench(
    settings: Settings, count: int, latency: float, concurrency: int, console: Console
) -> dict[str, Any]:
    with Sandbox(latency=latency) as sandbox:
        async with scratch_broker(settings, console) as bench:
            console.print(f"publishing {count} notices")
            await publish(
                bench, bench.bootstrap or "", NOTICES, notices_for_sink("HL-BENCH", count)
            )
            console.print(
                f"delivery worker running, {concurrency} in flight, {latency}s per message"
            )
            env = {**sandbox.pipeline_env(bench.data_dir / "banks"),
                   "HOTLINE_CONCURRENCY": str(concurrency)}  # fmt: skip
            span, used = await timed_workers(
                bench, ["delivery"], [DELIVERIES], count, env, here="sink_and_reader"
            )
            mailed = len(sandbox.mailbox)
    achieved = count / span
    bound = concurrency / latency
    return {
        "notices": count,
        "latency_s": latency,
        "concurrency": concurrency,
        "at_sink": mailed,
        "achieved_per_s": round(achieved, 1),
        "bound_per_s": round(bound, 1),
        "ratio": round(achieved / bound, 3),
        "target_ratio": TARGET_RATIO,
        "meets_target": achieved / bound >= TARGET_RATIO,
        "cpu_ms_per_notice": per_item_ms(used, count),
    }
