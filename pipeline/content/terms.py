"""Finding many rule terms in folded text at once (Aho-Corasick, pyahocorasick).

A term is a word or a phrase of words as a rule author writes it; each word ending in `*` is a
stem (`заклад*` matches закладка, закладки, закладку), any other is a whole word. Terms are
folded like the text (pipeline/content/normalise.py), so one spelling covers the tricks. A
phrase matches when its words follow each other in order, each within a few words of the one
before. All terms of all rules go into one automaton: a 10 KiB text is scanned once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import ahocorasick

from pipeline.content.normalise import fold

_PHRASE_GAP = 40  # characters between a phrase's words (about five short words)


@dataclass(frozen=True)
class Term:
    rule: str  # the rule it belongs to
    text: str  # as written in the rule file
    words: tuple[str, ...]  # automaton keys: " stem" or " word "


def parse_term(rule: str, text: str) -> Term:
    """`рабоч* зеркал*` → keys ` рабоч`, ` зеркал`; a bare word must end where it ends."""
    words = []
    for word in text.split():
        stem = word.endswith("*")
        # Folding may split a word (`you'll` → `you ll`): its parts must follow each other.
        parts = fold(word.rstrip("*")).split()
        words += [f" {part} " for part in parts[:-1]]
        if parts:
            words.append(f" {parts[-1]}" if stem else f" {parts[-1]} ")
    if not words:
        raise ValueError(f"rule {rule}: an empty term")
    return Term(rule, text, tuple(words))


class TermIndex:
    def __init__(self, terms: Iterable[Term]) -> None:
        # Two spellings of one term (ё and е) fold to the same words: it counts once.
        self.terms = list({(t.rule, t.words): t for t in terms}.values())
        self._automaton = ahocorasick.Automaton()
        keys: defaultdict[str, list[tuple[int, int]]] = defaultdict(list)
        for index, term in enumerate(self.terms):
            for position, key in enumerate(term.words):
                keys[key].append((index, position))
        for key, places in keys.items():
            self._automaton.add_word(key, tuple(places))
        if keys:
            self._automaton.make_automaton()
        self._empty = not keys

    def find(self, folded: str) -> dict[str, list[str]]:
        """Rule id → the terms of it found in `folded` text (each term once)."""
        if self._empty:
            return {}
        # (term, word position) → start offsets of that word's matches
        starts: defaultdict[tuple[int, int], list[int]] = defaultdict(list)
        for end, places in self._automaton.iter(folded):
            for place in places:
                term = self.terms[place[0]]
                starts[place].append(end - len(term.words[place[1]]) + 1)
        found: dict[str, list[str]] = {}
        seen: set[int] = set()
        for (index, position), offsets in starts.items():
            if position != 0 or index in seen:
                continue
            term = self.terms[index]
            if self._follows(index, term, offsets, starts):
                seen.add(index)
                found.setdefault(term.rule, []).append(term.text)
        return found

    @staticmethod
    def _follows(
        index: int, term: Term, offsets: list[int], starts: dict[tuple[int, int], list[int]]
    ) -> bool:
        """Whether the phrase's words occur in order, each close after the one before."""
        ends = [offset + len(term.words[0]) for offset in offsets]
        for position in range(1, len(term.words)):
            nexts = starts.get((index, position))
            if not nexts:
                return False
            ends = [
                start + len(term.words[position])
                for start in nexts
                if any(0 <= start - end + 1 <= _PHRASE_GAP for end in ends)
            ]
            if not ends:
                return False
        return True
