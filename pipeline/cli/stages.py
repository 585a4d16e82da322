"""The stage registry: the stages in pipeline order, by name, each a module under `agents/`.

Adding a stage is one line here; everything else about it (topics, reasons, options) is declared
by its module's `SPEC`.
"""

from __future__ import annotations

import importlib

from pipeline.monitor.groups import Watched
from pipeline.runtime.stage import StageSpec
from pipeline.runtime.topics import dead_letter_topic

STAGE_MODULES = {
    "received": "agents.received",
    "url-verify": "agents.url_verify",
    "content-check": "agents.content_check",
    "categorize": "agents.categorize",
    "jurisdiction": "agents.jurisdiction",
    "dispatch": "agents.dispatch",
}

# Side services run by the same runtime, each its own consumer group, outside the case path.
SERVICE_MODULES = {
    "delivery": "pipeline.delivery.service",
    "ledger": "pipeline.ledger.service",
}
WORKERS = {**STAGE_MODULES, **SERVICE_MODULES}


def stage_spec(name: str) -> StageSpec:
    if name not in WORKERS:
        raise KeyError(f"unknown stage {name!r}; built so far: {', '.join(WORKERS)}")
    spec: StageSpec = importlib.import_module(WORKERS[name]).SPEC
    return spec


def all_specs() -> list[StageSpec]:
    return [stage_spec(name) for name in STAGE_MODULES]


def watched_groups() -> list[Watched]:
    """What the lag monitor watches: every worker's group, in pipeline order, then the side
    services'."""
    return [
        Watched(
            group=f"hotline-{name}",
            stage=name,
            inputs=spec.inputs,
            outputs=spec.outputs,
            dead_letter_topic=dead_letter_topic(name),
        )
        for name, spec in ((name, stage_spec(name)) for name in WORKERS)
    ]


def final_output() -> str:
    """Where the last stage built so far hands its cases on: the end of the line, for now."""
    return all_specs()[-1].forward


def undeclared_topics(spec: StageSpec, registry: set[str]) -> list[str]:
    """Topics the stage names that topics.yaml does not list: a worker would wait for ever."""
    return [t for t in (*spec.inputs, *spec.outputs) if t not in registry]


def reason_sentences() -> dict[str, str]:
    """Every stage's reason codes and the sentence a reporter is told for each."""
    return {
        str(code): code.sentence
        for spec in all_specs()
        for reasons in spec.reasons
        for code in reasons
    }
