"""`hotline bench verify`: url-verify and content-check, chained, against the sandbox internet
with a latency on every answer.

Every DNS and HTTP answer of the sandbox is delayed by `latency`; the lookup caches are off, so
each stage costs two sequential lookups per report: url-verify resolves the host (A and AAAA
together) and asks HEAD, content-check resolves it again (its own process, its own cache) and
GETs the content. The two stages are separate workers working at once on different reports, so
the chain's bound is its slowest stage, C / (2 x latency) with C events in flight per worker;
the ratio is against that. The rate achieved is content-check's outputs over the span between
the first and the last. The CPU time of each worker, of the broker and of this process (the
sandbox's servers, the reader) over that span (from /proc) is printed per case: on a small
machine the chain is CPU-bound before it reaches the bound. Screenshots are off: rendering is
Chromium's CPU, not waiting on the network.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console

from pipeline.cli.bench.scratch import per_item_ms, publish, scratch_broker, timed_workers
from pipeline.cli.stages import stage_spec
from pipeline.config import Settings
from pipeline.runtime.topics import TERMINATED
from pipeline.sandbox import Sandbox
from pipeline.sandbox.cases import received_envelope

STAGES = ("url-verify", "content-check")
LOOKUPS_PER_STAGE = 2  # one after the other: DNS (A and AAAA at once), then HTTP
TARGET_RATIO = 0.70
_SITES = ("kazinfo-news.kz", "best-casino.kz", "crypto-pyramid.kz", "shop-drugs.ru")


def received_cases(sandbox: Sandbox, count: int) -> list[tuple[bytes, bytes]]:
    cases = []
    for n in range(count):
        host = _SITES[n % len(_SITES)]
        # Distinct URLs: nothing is answered from a cache.
        envelope = received_envelope(sandbox.url(host, f"/?ref={n}"), host, f"HL-BENCH-{n:08d}")
        cases.append((envelope.case_id.encode(), envelope.model_dump_json().encode()))
    return cases


async def run_verify_bench(
    settings: Settings, reports: int, latency: float, concurrency: int, console: Console
) -> dict[str, Any]:
    with Sandbox(latency=latency) as sandbox:
        async with scratch_broker(settings, console) as bench:
            console.print(f"publishing {reports} received cases of sandbox links")
            first = stage_spec(STAGES[0]).inputs[0]
            await publish(bench, bench.bootstrap or "", first, received_cases(sandbox, reports))
            console.print(
                f"url-verify and content-check workers running, {concurrency} in flight each, "
                f"{latency}s latency"
            )
            env = {
                **sandbox.pipeline_env(bench.data_dir / "banks"),
                "HOTLINE_CONCURRENCY": str(concurrency),
                "HOTLINE_LOOKUP_CACHE_TTL": "0",
                "HOTLINE_SCREENSHOTS": "false",
            }
            outputs = [stage_spec(STAGES[-1]).forward, TERMINATED]
            span, used = await timed_workers(
                bench, list(STAGES), outputs, reports, env, here="sandbox_and_reader"
            )
    achieved = reports / span
    bound = concurrency / (LOOKUPS_PER_STAGE * latency)
    return {
        "reports": reports,
        "latency_s": latency,
        "concurrency_per_worker": concurrency,
        "stages": list(STAGES),
        "lookups_per_stage": LOOKUPS_PER_STAGE,
        "achieved_per_s": round(achieved, 1),
        "bound_per_s": round(bound, 1),
        "ratio": round(achieved / bound, 3),
        "target_ratio": TARGET_RATIO,
        "meets_target": achieved / bound >= TARGET_RATIO,
        "cpu_ms_per_case": per_item_ms(used, reports),
    }
