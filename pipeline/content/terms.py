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
        # Each term is found by its longest word (a phrase's short words, `не`, `в`, `the`,
        # are everywhere); a phrase's other words are then looked for around it (finds in C).
        anchored: defaultdict[str, list[tuple[int, int]]] = defaultdict(list)
        for index, term in enumerate(self.terms):
            anchor = max(range(len(term.words)), key=lambda i: len(term.words[i]))
            anchored[term.words[anchor]].append((index, anchor))
        for key, places in anchored.items():
            self._automaton.add_word(key, tuple(places))
        self._empty = not anchored
        if not self._empty:
            self._automaton.make_automaton()

    def find(self, folded: str) -> dict[str, list[str]]:
        """Rule id → the terms of it found in `folded` text (each term once)."""
        if self._empty:
            return {}
        found: set[int] = set()
        for end, places in self._automaton.iter(folded):
            for index, anchor in places:
                if index in found:
                    continue
                words = self.terms[index].words
                if len(words) == 1 or _around(words, anchor, folded, end):
                    found.add(index)
        by_rule: dict[str, list[str]] = {}
        for index in sorted(found):
            term = self.terms[index]
            by_rule.setdefault(term.rule, []).append(term.text)
        return by_rule


def _around(words: tuple[str, ...], anchor: int, folded: str, end: int) -> bool:
    """Whether a phrase's other words stand in order around its anchor word (ending at `end`),
    each within a few words of the next."""
    start = end - len(words[anchor]) + 1
    for key in reversed(words[:anchor]):
        # The key must end where the word after it begins (its closing space is that start).
        found = folded.rfind(key, max(0, start - _PHRASE_GAP - len(key)), start + 1)
        if found < 0:
            return False
        start = found
    position = end  # the anchor's last letter, or its closing space
    for key in words[anchor + 1 :]:
        found = folded.find(key, position, position + _PHRASE_GAP + len(key))
        if found < 0:
            return False
        position = found + len(key) - 1
    return True
