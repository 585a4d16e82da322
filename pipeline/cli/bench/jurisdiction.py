"""`hotline bench jurisdiction`: the jurisdiction stage against the sandbox with a latency on
every DNS, RDAP and whois answer, on many reports of few hosts.

1,000 cases on 50 distinct hosts (50 registered domains in 6 networks) go to one worker with C
events in flight. Each case carries url-verify's addresses, as it does in the pipeline, so the
stage asks DNS only for name servers, mail hosts and the AS; RDAP once per network, the
registry once per domain. The sandbox counts every question its servers are asked:
`rdap_lookups` is RDAP plus whois. The bound is what waiting alone allows, C / (uncached
lookups per case x latency), the lookups per case being every question asked over the cases;
the ratio is the rate achieved (first to last output) over it. CPU per case of the worker, the
broker and this process (sandbox, reader) over the same span is printed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rich.console import Console

from pipeline.cli.bench.scratch import per_item_ms, publish, scratch_broker, timed_workers
from pipeline.cli.stages import stage_spec
from pipeline.config import Settings
from pipeline.sandbox import Sandbox, zones
from pipeline.sandbox.cases import categorized_envelope
from schemas import Category, Envelope, UrlFacts

STAGE = "jurisdiction"
TARGET_RATIO = 0.70
RDAP_GOAL = 60


def located_cases(sandbox: Sandbox, hosts: tuple[zones.Host, ...], count: int) -> list[Envelope]:
    cases = []
    for n in range(count):
        host = hosts[n % len(hosts)]
        url = sandbox.url(host.name, f"/?ref={n}")
        case = categorized_envelope(url, host.name, f"HL-BENCH-{n:08d}", Category.hate)
        checked = UrlFacts(
            checked_at=datetime.now(UTC),
            host=host.name,
            addresses=[host.address],
            cname_chain=[],
            final_url=url,
            status=200,
            attempts=1,
        )
        cases.append(
            case.model_copy(update={"case": case.case.model_copy(update={"url": checked})})
        )
    return cases


async def run_jurisdiction_bench(
    settings: Settings, cases: int, hosts: int, latency: float, concurrency: int, console: Console
) -> dict[str, Any]:
    sites = zones.bench_hosts(hosts)
    with Sandbox(latency=latency, extra_hosts=sites) as sandbox:
        async with scratch_broker(settings, console) as bench:
            envelopes = located_cases(sandbox, sites, cases)
            console.print(f"publishing {cases} categorized cases on {hosts} hosts")
            await publish(
                bench,
                bench.bootstrap or "",
                stage_spec(STAGE).inputs[0],
                [(e.case_id.encode(), e.model_dump_json().encode()) for e in envelopes],
            )
            console.print(
                f"jurisdiction worker running, {concurrency} in flight, {latency}s latency"
            )
            env = {**sandbox.pipeline_env(bench.data_dir / "banks"),
                   "HOTLINE_CONCURRENCY": str(concurrency)}  # fmt: skip
            before = sandbox.lookups()
            outputs = [stage_spec(STAGE).forward]
            span, used = await timed_workers(
                bench, [STAGE], outputs, cases, env, here="sandbox_and_reader"
            )
            asked = {kind: sandbox.lookups()[kind] - before[kind] for kind in before}
    lookups = sum(asked.values())
    achieved = cases / span
    bound = concurrency / (lookups / cases * latency)
    rdap = asked["rdap"] + asked["whois"]
    return {
        "cases": cases,
        "hosts": hosts,
        "latency_s": latency,
        "concurrency": concurrency,
        "lookups": asked,
        "rdap_lookups": rdap,
        "rdap_goal": RDAP_GOAL,
        "uncached_lookups_per_case": round(lookups / cases, 3),
        "achieved_per_s": round(achieved, 1),
        "bound_per_s": round(bound, 1),
        "ratio": round(achieved / bound, 3),
        "target_ratio": TARGET_RATIO,
        "meets_target": achieved / bound >= TARGET_RATIO and rdap <= RDAP_GOAL,
        "cpu_ms_per_case": per_item_ms(used, cases),
    }
