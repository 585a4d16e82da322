"""Reason codes: why a case ends or waits, each with the sentence its reporter can be told.

Every stage declares its own enum of them (a subclass of `ReasonCode`), so a code is checked
by mypy where it is used and a code without a sentence cannot be written.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self


class ReasonCode(StrEnum):
    """`member = "code", "The sentence for the reporter."`; the value on the wire is the code."""

    sentence: str

    def __new__(cls, code: str, sentence: str = "") -> Self:
        if not sentence:
            raise ValueError(f"reason {code!r} has no sentence for the reporter")
        member = str.__new__(cls, code)
        member._value_ = code
        member.sentence = sentence
        return member

    def explain(self, detail: str | int | None) -> str:
        """The reporter's sentence with the technical detail after it, for the case's facts."""
        return self.sentence if detail is None else f"{self.sentence} ({detail})"
