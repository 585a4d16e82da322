"""How a stage worker process is started: the one command line for the stack, the benchmarks
and the tests, so they run exactly what an operator runs; and how many of each `hotline up`
runs."""

from __future__ import annotations

import sys
from collections.abc import Iterable


def worker_command(stage: str) -> list[str]:
    """`hotline stage run STAGE` with this interpreter (the console script may not be on PATH)."""
    return [sys.executable, "-m", "pipeline.cli", "stage", "run", stage]


def gateway_command() -> list[str]:
    """`hotline gateway` with this interpreter."""
    return [sys.executable, "-m", "pipeline.cli", "gateway"]


def monitor_command() -> list[str]:
    """`hotline monitor` (the lag monitor) with this interpreter."""
    return [sys.executable, "-m", "pipeline.cli", "monitor"]


def worker_counts(values: Iterable[str], known: Iterable[str]) -> dict[str, int]:
    """`--workers url-verify=3 --workers content-check=2,received=2` as {name: processes}.

    Only the workers named; the caller runs one of every other. A ValueError says, in one
    sentence for the operator, what is wrong (an unknown name, a count that is not 1 or more).
    """
    names = list(known)
    counts: dict[str, int] = {}
    for value in values:
        for item in filter(None, (part.strip() for part in value.split(","))):
            name, equals, number = item.partition("=")
            name = name.strip()
            if not equals:
                raise ValueError(f"--workers {item!r}: write NAME=N, e.g. url-verify=3")
            if name not in names:
                raise ValueError(f"--workers: unknown worker {name!r}; one of {', '.join(names)}")
            try:
                count = int(number)
            except ValueError:
                count = 0
            if count < 1:
                raise ValueError(f"--workers {item!r}: the number of processes must be 1 or more")
            counts[name] = count
    return counts
