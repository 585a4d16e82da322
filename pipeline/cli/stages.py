"""The stages the CLI can run, by name; each lives in its own module under `agents/`."""

from __future__ import annotations

import importlib

from pipeline.runtime.runner import StageSpec
from pipeline.runtime.topics import CONTENT_CHECKED

STAGE_MODULES = {
    "received": "agents.received",
    "url-verify": "agents.url_verify",
    "content-check": "agents.content_check",
}
# Where the last stage built so far hands its cases on: the end of the line, for now.
FINAL_OUTPUT = CONTENT_CHECKED


def stage_spec(name: str) -> StageSpec:
    if name not in STAGE_MODULES:
        raise KeyError(f"unknown stage {name!r}; built so far: {', '.join(STAGE_MODULES)}")
    spec: StageSpec = importlib.import_module(STAGE_MODULES[name]).SPEC
    return spec
