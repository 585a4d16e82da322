"""`hotline bench verify`: url-verify and content-check, chained, against the sandbox internet
with a latency on every answer.

Every DNS and HTTP answer of the sandbox is delayed by `latency`; the lookup caches are off, so
a report costs four sequential lookups: url-verify resolves the host (A and AAAA together) and
asks HEAD, content-check resolves it again (its own process, its own cache) and GETs the
content. The target is stated against C / (4 x latency), C events in flight per worker. The two
stages are separate workers working at once on different reports, so the chain could at best
reach its slower stage's C / (2 x latency): that tighter bound is printed too. The rate achieved
is content-check's outputs over the span between the first and the last. Screenshots are off:
rendering is Chromium's CPU, not waiting on the network, which is what this measures.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console

from pipeline.cli.bench.scratch import output_span, publish, scratch_broker, start_stage
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
            workers = [start_stage(bench, stage, **env) for stage in STAGES]
            try:
                span = await output_span(
                    bench.bootstrap or "",
                    [stage_spec(STAGES[-1]).forward, TERMINATED],
                    reports,
                    timeout=900,
                )
            finally:
                for worker in workers:
                    worker.terminate()
                for worker in workers:
                    worker.wait(timeout=60)
    achieved = reports / span
    lookups = LOOKUPS_PER_STAGE * len(STAGES)
    ideal = concurrency / (lookups * latency)
    pipelined = concurrency / (LOOKUPS_PER_STAGE * latency)
    return {
        "reports": reports,
        "latency_s": latency,
        "concurrency_per_worker": concurrency,
        "stages": list(STAGES),
        "lookups_per_report": lookups,
        "achieved_reports_per_s": round(achieved, 1),
        "ideal_reports_per_s": round(ideal, 1),
        "ratio": round(achieved / ideal, 3),
        "target_ratio": TARGET_RATIO,
        "meets_target": achieved / ideal >= TARGET_RATIO,
        "pipelined_bound_reports_per_s": round(pipelined, 1),
        "ratio_to_pipelined_bound": round(achieved / pipelined, 3),
    }
