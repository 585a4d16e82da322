"""What the monitor watches: a consumer group, the stage it runs and the topics around it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Watched:
    group: str  # `hotline-<stage>`
    stage: str
    inputs: tuple[str, ...]  # what its lag is measured on
    outputs: tuple[str, ...]  # what it puts out: counted, and timed against its inputs
    dead_letter_topic: str
