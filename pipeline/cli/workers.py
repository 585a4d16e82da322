"""How a stage worker process is started: the one command line for the stack, the benchmarks
and the tests, so they run exactly what an operator runs."""

from __future__ import annotations

import sys


def worker_command(stage: str) -> list[str]:
    """`hotline stage run STAGE` with this interpreter (the console script may not be on PATH)."""
    return [sys.executable, "-m", "pipeline.cli", "stage", "run", stage]


def gateway_command() -> list[str]:
    """`hotline gateway` with this interpreter."""
    return [sys.executable, "-m", "pipeline.cli", "gateway"]
