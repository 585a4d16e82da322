"""categorize: does the content show signs of illegal content, and is the reporter's category
right?

Scores every category from rules as data (`rules/categorize/`: weighted terms and phrases in
Kazakh, Russian and English, regular expressions, URL patterns, and exclusions that lower a
score: news, fiction, education, research, harm reduction…) over the folded title, visible text
and URL (pipeline/content/normalise.py), and takes hash-bank matches first: a match outranks
any text. The verdict confirms the reporter's category, corrects it, ends the case as not
illegal, or sends it to an analyst: always for csam, grooming and terrorism unless a hash bank
matched, and whenever the rules are unsure. Analysts' decisions come back on
`hotline.review-decisions`; the case waiting in review is kept in the stage's table, so it
survives restarts, and the first decision on it wins.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from pipeline.content import text_model
from pipeline.content.normalise import fold, plain
from pipeline.content.terms import Term, TermIndex, parse_term
from pipeline.content.text_model import TextModel
from pipeline.runtime.envelopes import envelope_output, next_envelope, read_envelope
from pipeline.runtime.ids import event_id_for
from pipeline.runtime.reasons import ReasonCode
from pipeline.runtime.rules import RULES_DIR, RuleFileError, RuleSet, load_rules
from pipeline.runtime.stage import (
    Handler,
    Inbound,
    Outbound,
    PermanentError,
    StageContext,
    StageSpec,
)
from pipeline.runtime.topics import (
    REVIEW,
    REVIEW_DECISIONS,
    REVIEW_RECEIPTS,
    TERMINATED,
    load_topics,
)
from schemas import (
    Category,
    CategoryDecision,
    ContentFacts,
    Envelope,
    Outcome,
    ReviewDecision,
    ReviewReceipt,
    RuleHit,
    StageName,
    Verdict,
)

STAGE: StageName = "categorize"
DEVELOPMENT_FILE = "development.jsonl"  # the learned scorer's labelled texts
NOT_ILLEGAL = "not_illegal"
CONTENT_CHECKED = "hotline.content-checked"
CATEGORIZED = "hotline.categorized"
INPUTS = (CONTENT_CHECKED, REVIEW_DECISIONS)
OUTPUTS = (CATEGORIZED, REVIEW, TERMINATED, REVIEW_RECEIPTS)


class CategorizeOptions(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOTLINE_", extra="ignore")

    categorize_rules: Path = RULES_DIR / "categorize"


class Finding(ReasonCode):
    not_illegal = (
        "not_illegal",
        "The analysts found no sign of illegal content at the link.",
    )
    in_review = "in_review", "An analyst is looking at the report."


# ---------------------------------------------------------------- rules as data


class Rule(BaseModel):
    """One way a category shows: terms and phrases, regular expressions, URL patterns."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9_-]+$")
    weight: float = Field(gt=0, le=10)
    # Several distinct signs of one rule count more, up to `cap` times its weight: a weak rule
    # (words a shop or a bank also uses) gets a low cap, so it never decides alone.
    cap: float = Field(default=2.5, ge=1, le=5)
    # A weak rule (words a shop, a bank or a school also uses) counts fully only beside a
    # strong rule of the category; alone, its category stays below `weak_alone` raw weight.
    weak: bool = False
    terms: list[str] = Field(default_factory=list)
    # Over the text (lower case, spaces collapsed), counted only once a term or a URL pattern
    # of the category matched: an amount or a rate alone is no sign.
    regex: list[str] = Field(default_factory=list)
    url: list[str] = Field(default_factory=list)  # over the URL, lower-case

    @field_validator("regex", "url")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(f"{pattern!r} is not a regular expression: {error}") from None
        return patterns


class CategoryRules(RuleSet):
    """`rules/categorize/<category>.yaml`."""

    category: Category
    rules: list[Rule]
    exclusions: list[str] = Field(default_factory=list)  # contexts that lower this category


class Exclusion(BaseModel):
    """A context that makes signs of a category less telling (news about an arrest)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9_-]+$")
    terms: list[str]
    factor: float = Field(gt=0, lt=1, description="Score multiplier per term found.")
    floor: float = Field(default=0.2, gt=0, le=1, description="The lowest multiplier.")


class Thresholds(RuleSet):
    """`rules/categorize/ruleset.yaml`: how scores become verdicts."""

    min_confidence: float = Field(gt=0, lt=1)  # less sure of a category: a person decides
    min_benign_confidence: float = Field(gt=0, lt=1)  # less sure it is not illegal: a person
    reported_within: float = Field(ge=0, lt=1)  # the reporter's category stands this close
    scale: float = Field(gt=0)  # raw rule weight at which a score reaches 63 %
    min_words: int = Field(ge=1)  # fewer readable words: nothing to judge by
    weak_alone: float = Field(ge=0)  # the most raw weight weak rules give a category alone
    always_review: list[Category]
    languages: list[str]
    language_aliases: dict[str, str] = Field(default_factory=dict)
    exclusions: list[Exclusion]


@dataclass(frozen=True)
class RuleBook:
    """Every rule file, compiled: what the pure decision needs."""

    version: str
    thresholds: Thresholds
    categories: dict[Category, CategoryRules]
    terms: TermIndex  # rules' and exclusions' terms, by rule id
    regexes: dict[str, list[re.Pattern[str]]]
    urls: dict[str, list[re.Pattern[str]]]
    model: TextModel | None  # None without a development set

    @classmethod
    def load(cls, directory: Path) -> RuleBook:
        """The rule book of `directory`, compiled once per process for the same files."""
        files = tuple(
            sorted(
                (p.name, p.stat().st_mtime_ns, p.stat().st_size)
                for p in directory.glob("*")
                if p.is_file()
            )
        )
        return _compiled(directory, files)

    @classmethod
    def compile(cls, directory: Path) -> RuleBook:
        thresholds = load_rules(directory / "ruleset.yaml", Thresholds)
        categories: dict[Category, CategoryRules] = {}
        digest = hashlib.sha256((directory / "ruleset.yaml").read_bytes())
        for path in sorted(directory.glob("*.yaml")):
            if path.name == "ruleset.yaml":
                continue
            rules = load_rules(path, CategoryRules)
            if rules.category in categories:
                raise RuleFileError(path, None, f"a second file for {rules.category}")
            if rules.version != thresholds.version:
                raise RuleFileError(path, None, f"version {rules.version} is not the rule set's")
            known = {e.id for e in thresholds.exclusions}
            unknown = [e for e in rules.exclusions if e not in known]
            if unknown:
                raise RuleFileError(path, None, f"unknown exclusions {unknown}")
            categories[rules.category] = rules
            digest.update(path.read_bytes())
        terms, regexes, urls = [], {}, {}
        for rules in categories.values():
            for rule in rules.rules:
                rule_id = f"{rules.category}.{rule.id}"
                terms += [
                    _term(directory / f"{rules.category}.yaml", rule_id, t) for t in rule.terms
                ]
                regexes[rule_id] = [re.compile(p) for p in rule.regex]
                urls[rule_id] = [re.compile(p) for p in rule.url]
        for exclusion in thresholds.exclusions:
            rule_id = f"exclusion.{exclusion.id}"
            terms += [_term(directory / "ruleset.yaml", rule_id, t) for t in exclusion.terms]
        model = None
        development = directory / DEVELOPMENT_FILE
        if development.exists():
            content = development.read_bytes()
            model = _trained(development, content)
            digest.update(content + text_model.SETTINGS.encode())
        version = f"{thresholds.version}+{digest.hexdigest()[:8]}"
        return cls(version, thresholds, categories, TermIndex(terms), regexes, urls, model)


@functools.lru_cache(maxsize=8)
def _compiled(directory: Path, files: tuple[tuple[str, int, int], ...]) -> RuleBook:
    """`files` (names, times, sizes) is the key: a changed file compiles anew."""
    return RuleBook.compile(directory)


@functools.lru_cache(maxsize=4)
def _trained(path: Path, content: bytes) -> TextModel:
    """The learned scorer of these labelled texts, trained once per process (the content is
    the key: the same file trains the same model)."""
    examples = read_labelled(path)
    return TextModel.train([fold(e.text) for e in examples], [e.label for e in examples])


@dataclass(frozen=True)
class LabelledText:
    text: str
    language: str | None
    label: str  # a category, or "not_illegal"


def read_labelled(path: Path) -> list[LabelledText]:
    """JSON lines of `text`, `language`, `label` (the scorer's development set, an evaluation
    set); a bad line is named with its file and line."""
    labels = {str(c) for c in Category} | {NOT_ILLEGAL}
    examples = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            document = orjson.loads(line)
            text, label = document["text"], document["label"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            raise RuleFileError(path, number, "not a JSON object with text and label") from None
        if not isinstance(text, str) or label not in labels:
            raise RuleFileError(path, number, f"unknown label {label!r}")
        examples.append(LabelledText(text, document.get("language"), label))
    return examples


def _term(path: Path, rule_id: str, text: str) -> Term:
    try:
        return parse_term(rule_id, text)
    except ValueError as error:
        raise RuleFileError(path, None, f"{rule_id}: {error}") from None


# ---------------------------------------------------------------- pure decision


@dataclass(frozen=True)
class Evidence:
    """What the rules read: the page's title and visible text, its URL, hash-bank matches."""

    text: str
    url: str
    language: str | None
    hash_categories: tuple[Category, ...] = ()

    @classmethod
    def of(cls, content: ContentFacts | None, url: str) -> Evidence:
        if content is None:
            return cls("", url, None)
        text = "\n".join(part for part in (content.title, content.text) if part)
        matched = tuple(dict.fromkeys(m.category for m in content.hash_matches))
        return cls(text, content.url or url, content.language, matched)


def score(
    book: RuleBook, evidence: Evidence, lowered: str, folded: str
) -> tuple[dict[Category, float], list[RuleHit]]:
    """Per-category scores of the rules (0 to 1, exclusions applied) and the rules that fired;
    `lowered` and `folded` are the evidence's text as `plain` and `fold` make it."""
    found = book.terms.find(folded)
    url = evidence.url.lower()
    found_in_url = book.terms.find(fold(re.sub(r"[^a-z0-9]+", " ", url)))
    hits: list[RuleHit] = []
    scores: dict[Category, float] = {}
    multipliers = _exclusion_multipliers(book, found, hits)
    for category, rules in book.categories.items():
        raw = weak = 0.0
        for rule in rules.rules:
            rule_id = f"{category}.{rule.id}"
            matched = found.get(rule_id, []) + found_in_url.get(rule_id, [])
            matched += [p.pattern for p in book.urls[rule_id] if p.search(url)]
            if raw or weak or matched:  # amounts and rates count only beside a category word
                matched += [m.group() for p in book.regexes[rule_id] for m in p.finditer(lowered)]
            if not matched:
                continue
            # More distinct signs of one rule count, with diminishing returns.
            weight = rule.weight * min(1 + 0.5 * (len(set(matched)) - 1), rule.cap)
            if rule.weak:
                weak += weight
            else:
                raw += weight
            hits.append(
                RuleHit.model_construct(  # our own values: no validation in the hot path
                    rule=rule_id,
                    category=category,
                    weight=round(weight, 3),
                    matched=sorted(set(matched))[:5],
                )
            )
        raw += weak if raw else min(weak, book.thresholds.weak_alone)
        factor = math.prod(multipliers.get(e, 1.0) for e in rules.exclusions)
        scores[category] = (1 - math.exp(-raw / book.thresholds.scale)) * factor
    return scores, hits


def likelihoods(
    book: RuleBook, folded: str, scores: dict[Category, float], hits: list[RuleHit]
) -> dict[str, float]:
    """How likely each category and "not illegal" is: a category as likely as the rules or the
    learned scorer find it; the text benign as far as the scorer thinks so and no rule found
    signs. The scorer's leanings are recorded as `model.<category>` hits, with their n-grams."""
    learned = book.model.predict(folded) if book.model is not None else None
    probability = learned.probabilities if learned is not None else {NOT_ILLEGAL: 1.0}
    likely = {}
    for category, found in scores.items():
        lean = probability.get(str(category), 0.0)
        likely[str(category)] = 1 - (1 - found) * (1 - lean)
        if learned is not None and lean >= 0.1:
            hits.append(
                RuleHit.model_construct(
                    rule=f"model.{category}",
                    category=category,
                    weight=round(lean, 3),
                    matched=learned.drivers.get(str(category), []),
                )
            )
    likely[NOT_ILLEGAL] = probability.get(NOT_ILLEGAL, 0.0) * math.prod(
        1 - found for found in scores.values()
    )
    return likely


def _exclusion_multipliers(
    book: RuleBook, found: dict[str, list[str]], hits: list[RuleHit]
) -> dict[str, float]:
    multipliers = {}
    for exclusion in book.thresholds.exclusions:
        matched = found.get(f"exclusion.{exclusion.id}")
        if matched:
            factor = max(exclusion.factor ** len(matched), exclusion.floor)
            multipliers[exclusion.id] = factor
            hits.append(
                RuleHit.model_construct(
                    rule=f"exclusion.{exclusion.id}",
                    category=None,
                    weight=round(factor - 1, 3),
                    matched=sorted(matched)[:5],
                )
            )
    return multipliers


def decide(
    book: RuleBook, evidence: Evidence, reported: Category, now: datetime
) -> CategoryDecision:
    """The stage's verdict on one case."""
    limits = book.thresholds

    def decision(
        verdict: Verdict, category: Category | None, confidence: float, why: str, **facts: Any
    ) -> CategoryDecision:
        return CategoryDecision(
            decided_at=now,
            verdict=verdict,
            reported=reported,
            category=category,
            confidence=round(confidence, 3),
            ruleset_version=book.version,
            why=why,
            **facts,
        )

    if evidence.hash_categories:  # known content: outranks anything the text says
        matched = evidence.hash_categories
        category = Category.csam if Category.csam in matched else matched[0]
        verdict = Verdict.confirmed if category is reported else Verdict.corrected
        return decision(
            verdict,
            category,
            1.0,
            f"the content matches a {category} hash bank",
            suggested=category,
            evidence=["hash_bank"],
        )
    lowered = plain(evidence.text)
    folded = fold(evidence.text, lowered)
    scores, hits = score(book, evidence, lowered, folded)
    likely = likelihoods(book, folded, scores, hits)
    ranked = sorted(likely.items(), key=lambda item: item[1], reverse=True)
    label, confidence = ranked[0]
    best_category = next(Category(name) for name, _ in ranked if name != NOT_ILLEGAL)
    facts: dict[str, Any] = {
        "scores": {name: round(p, 3) for name, p in ranked if p >= 0.01},
        "rules": hits,
        "suggested": best_category if likely[str(best_category)] >= 0.2 else None,
        "evidence": [
            e for e, present in (("text", evidence.text), ("url", evidence.url)) if present
        ],
    }

    def review(why: str) -> CategoryDecision:
        return decision(Verdict.needs_review, None, confidence, why, **facts)

    language = limits.language_aliases.get(evidence.language or "", evidence.language)
    if label == NOT_ILLEGAL:
        if reported in limits.always_review:
            return review(f"{reported} reports are always seen by a person")
        if len(evidence.text.split()) < limits.min_words:
            return review("too little text to judge by")
        if language is not None and language not in limits.languages:
            return review(f"the rules do not cover the language {language!r}")
        if confidence < limits.min_benign_confidence:
            return review("no clear sign either way")
        return decision(
            Verdict.not_illegal, None, confidence, "no sign of illegal content", **facts
        )
    # The reporter's category stands when it is nearly as likely as the best one.
    category = Category(label)
    if likely.get(str(reported), 0.0) >= confidence - limits.reported_within:
        category, confidence = reported, likely[str(reported)]
    if category in limits.always_review or reported in limits.always_review:
        return review(f"{category} is always decided by a person")
    if confidence < limits.min_confidence:
        return review("the rules are unsure")
    verdict = Verdict.confirmed if category is reported else Verdict.corrected
    return decision(verdict, category, confidence, f"signs of {category}", **facts)


# ---------------------------------------------------------------- human review


class ReviewEntry(BaseModel):
    """What the stage's table keeps per case: whether it waits for a person, and who decided."""

    # auto: decided by the rules; waiting: in review; decided: by a person
    state: Literal["auto", "waiting", "decided"]
    waiting: str | None = None  # the review event, to move the case on from
    decision_id: str | None = None
    reviewer: str | None = None


def receipt(
    decision: ReviewDecision, problem: str | None, message: str, **facts: Any
) -> ReviewReceipt:
    return ReviewReceipt(
        decision_id=decision.decision_id,
        case_id=decision.case_id,
        accepted=problem is None,
        problem=problem,
        message=message,
        answered_at=datetime.now(UTC),
        **facts,
    )


def apply_decision(
    entry: ReviewEntry | None, decision: ReviewDecision
) -> tuple[ReviewReceipt, Envelope | None]:
    """An analyst's decision on a case: the receipt, and the case's next event if it moves on.
    The first decision wins; the same decision delivered again is taken once."""
    if decision.verdict == "corrected" and decision.category is None:
        return receipt(decision, "invalid", "a corrected verdict needs --category"), None
    if entry is None:
        return receipt(
            decision, "unknown_case", f"no case {decision.case_id} has reached review"
        ), None
    if entry.state == "auto":
        return receipt(
            decision, "not_in_review", f"{decision.case_id} was decided by the rules"
        ), None
    if entry.state == "decided" or entry.waiting is None:
        if entry.decision_id == decision.decision_id:
            return receipt(decision, None, "already taken"), None
        by = entry.reviewer
        return receipt(
            decision, "already_decided", f"{decision.case_id} was decided by {by}", decided_by=by
        ), None
    waiting = Envelope.model_validate_json(entry.waiting)
    found = waiting.case.category
    assert found is not None
    category = decision.category if decision.verdict == "corrected" else found.reported
    verdict = Verdict(decision.verdict)
    person = found.model_copy(
        update={
            "decided_at": decision.decided_at,
            "verdict": verdict,
            "category": None if verdict is Verdict.not_illegal else category,
            "confidence": 1.0,
            "reviewer": decision.reviewer,
            "note": decision.note,
            "why": f"decided by {decision.reviewer}",
        }
    )
    outcome = Outcome.terminated if verdict is Verdict.not_illegal else Outcome.continue_
    reason = Finding.not_illegal if verdict is Verdict.not_illegal else None
    case = waiting.case.model_copy(update={"category": person})
    moved = next_envelope(waiting, STAGE, outcome, reason, case)
    # Caused by the decision, so a second decision could never make the same event.
    moved = moved.model_copy(
        update={
            "causation_id": decision.decision_id,
            "event_id": event_id_for(waiting.case_id, STAGE, decision.decision_id),
        }
    )
    return receipt(decision, None, f"{decision.case_id}: {verdict}"), moved


# ---------------------------------------------------------------- agent wiring


def build(context: StageContext) -> Handler:
    options = context.options(CategorizeOptions)
    book = RuleBook.load(options.categorize_rules)
    partitions = load_topics(context.settings.topics_file)[CONTENT_CHECKED].partitions
    cases = context.table("review", partitions)

    def remember(inbound: Inbound, case_id: str, entry: ReviewEntry) -> Outbound:
        return cases.update(inbound.source.partition, case_id, entry.model_dump())

    def entry_of(case_id: str) -> ReviewEntry | None:
        stored = cases.get(case_id)
        return ReviewEntry.model_validate(stored) if stored else None

    def categorize(inbound: Inbound) -> list[Outbound]:
        previous = read_envelope(inbound.value)
        evidence = Evidence.of(previous.case.content, previous.case.report.url)
        found = decide(book, evidence, previous.case.report.category, datetime.now(UTC))
        case = previous.case.model_copy(update={"category": found})
        if found.verdict is Verdict.needs_review:
            topic, outcome, reason = REVIEW, Outcome.review, Finding.in_review
        elif found.verdict is Verdict.not_illegal:
            topic, outcome, reason = TERMINATED, Outcome.terminated, Finding.not_illegal
        else:
            topic, outcome, reason = CATEGORIZED, Outcome.continue_, None
        envelope = next_envelope(previous, STAGE, outcome, reason, case)
        outputs = [envelope_output(topic, envelope)]
        known = entry_of(envelope.case_id)
        if known is None or known.state != "decided":  # a replay never reopens a decision
            waiting = envelope.model_dump_json() if outcome is Outcome.review else None
            entry = ReviewEntry(state="waiting" if waiting else "auto", waiting=waiting)
            outputs.append(remember(inbound, envelope.case_id, entry))
        return outputs

    def review(inbound: Inbound) -> list[Outbound]:
        try:
            decision = ReviewDecision.model_validate_json(inbound.value)
        except ValidationError as error:
            raise PermanentError(f"not a review decision: {error}") from error
        entry = entry_of(decision.case_id)
        answer, moved = apply_decision(entry, decision)
        outputs = [
            Outbound(REVIEW_RECEIPTS, decision.case_id.encode(), answer.model_dump_json().encode())
        ]
        if moved is not None:
            topic = TERMINATED if moved.outcome is Outcome.terminated else CATEGORIZED
            outputs.append(envelope_output(topic, moved))
            decided = ReviewEntry(
                state="decided", decision_id=decision.decision_id, reviewer=decision.reviewer
            )
            outputs.append(remember(inbound, decision.case_id, decided))
        return outputs

    async def handle(inbound: Inbound) -> list[Outbound]:
        if inbound.source.topic == REVIEW_DECISIONS:
            return review(inbound)
        return categorize(inbound)

    return handle


def input_id(inbound: Inbound) -> str | None:
    """The input's event id, or a decision's id."""
    try:
        document = orjson.loads(inbound.value)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(document, dict):
        return None
    found = document.get("event_id") or document.get("decision_id")
    return found if isinstance(found, str) else None


SPEC = StageSpec(
    name=STAGE,
    inputs=INPUTS,
    outputs=OUTPUTS,
    build=build,
    identify=input_id,
    reasons=(Finding,),
    options=CategorizeOptions,
)
