"""The Faust relay of `hotline bench received`: a stage whose handler only copies its input to
its output, run by the stages' own worker machinery (`build_stage_app`, `run_worker`: the
conveyor, the processor, delivery, offset commits), so its rate is what the runtime costs
without any stage logic. Run as `python -m pipeline.cli.bench.relay` by the benchmark.
"""

from __future__ import annotations

from pipeline.config import get_settings
from pipeline.runtime.logs import configure_logging
from pipeline.runtime.stage import Handler, Inbound, Outbound, StageContext, StageSpec
from pipeline.runtime.topics import INTAKE, load_topics
from pipeline.runtime.worker import build_stage_app, run_worker

RELAY_IN = "bench.relay-in"  # read by the raw aiokafka relay too, in its own group
FAUST_RELAY_OUT = "bench.faust-relay-out"


def _build(context: StageContext) -> Handler:
    async def copy(inbound: Inbound) -> list[Outbound]:
        return [Outbound(FAUST_RELAY_OUT, inbound.key or b"", inbound.value)]

    return copy


RELAY_SPEC = StageSpec(
    name="bench-faust-relay",
    inputs=(RELAY_IN,),
    outputs=(FAUST_RELAY_OUT,),
    build=_build,
    identify=lambda inbound: None,  # no redelivery window: no logic at all
)


def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    assert settings.bootstrap is not None, "the benchmark sets HOTLINE_BOOTSTRAP"
    partitions = load_topics(settings.topics_file)[INTAKE].partitions
    app, _ = build_stage_app(RELAY_SPEC, settings, settings.bootstrap, partitions)
    run_worker(app, settings.log_level)


if __name__ == "__main__":
    main()
