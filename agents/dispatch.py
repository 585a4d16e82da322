"""dispatch: turn a located case into notices to the right recipients, with deadlines.

Every rule of rules/routing/rules.yaml whose `when` holds adds its notices; a notice is one
recipient and one kind (report, takedown, forward, referral, blocking request), with the rule
and its legal basis, a deadline by category and recipient kind, and a text in the recipient's
language (rules/routing/templates.yaml). Each has an idempotency key (case id, recipient, kind):
delivery (pipeline/delivery/) sends a key once, whatever is replayed. For csam, law enforcement
first: takedown requests are held for the police hold and issued only once the content's hashes
are preserved; the URL goes only to hotlines and the police. A case no rule routes goes to an
analyst, never nowhere. Everything is derived from the input event, its time included, so a
replay makes the very same notices.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from pipeline.directories import Directories, as_recipient, load_directories
from pipeline.runtime.envelopes import envelope_output, input_event_id, next_envelope, read_envelope
from pipeline.runtime.reasons import ReasonCode
from pipeline.runtime.rules import RULES_DIR, RuleSet, load_rules
from pipeline.runtime.stage import Handler, Inbound, Outbound, StageContext, StageSpec
from pipeline.runtime.topics import NOTICES, REVIEW
from schemas import CaseSnapshot, Category, Envelope, Outcome, StageName, StoredObject
from schemas.dispatch import EvidenceRef, Notice, NoticeKind, RoutingDecision
from schemas.jurisdiction import Recipient, RecipientKind

STAGE: StageName = "dispatch"
INPUTS = ("hotline.jurisdiction-resolved",)
DISPATCHED = "hotline.dispatched"
OUTPUTS = (DISPATCHED, NOTICES, REVIEW)

_ROUTING = RULES_DIR / "routing"
# Recipients who may see where child sexual abuse material is.
_MAY_SEE_CSAM_URL: frozenset[RecipientKind] = frozenset({"partner_hotline", "law_enforcement"})
_AUTHORITIES: frozenset[RecipientKind] = frozenset(
    {"law_enforcement", "blocking_authority", "media_authority"}
)
_HELD_KINDS: frozenset[str] = frozenset({"takedown_request", "forward_request"})


class DispatchOptions(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOTLINE_", extra="ignore")

    routing_rules: Path = _ROUTING / "rules.yaml"
    notice_templates: Path = _ROUTING / "templates.yaml"
    banned_sites: Path = _ROUTING / "banned_sites.yaml"


class Unrouted(ReasonCode):
    unroutable = "unroutable", "No routing rule found anyone to send the case to."


# ---------------------------------------------------------------- rule data

RuleKind = NoticeKind | Literal["media_referral"]


class Send(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    to: RecipientKind
    kind: RuleKind
    hours: float | None = Field(default=None, gt=0)


class When(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    jurisdiction: list[Literal["domestic", "foreign", "unknown"]] | None = None
    handled_by: (
        list[Literal["domestic", "partner_hotline", "hosting", "platform", "cdn", "none"]] | None
    ) = None
    categories: list[Category | Literal["banned"]] | None = None
    has: RecipientKind | None = None
    lacks: RecipientKind | None = None
    representative: bool | None = None


class RoutingRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    basis: str = Field(min_length=10)
    when: When
    send: list[Send] = Field(min_length=1)


class MediaAuthority(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    criminal_signs: dict[Category, list[str]]
    criminal_basis: str
    administrative_basis: str


class RoutingRules(RuleSet):
    banned: list[Category]
    police_hold_hours: float = Field(ge=0)
    deadlines: dict[Literal["default"] | Category, dict[RecipientKind, float]]
    media_authority: MediaAuthority
    rules: list[RoutingRule] = Field(min_length=1)


class LanguageTexts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kinds: dict[NoticeKind, str]
    categories: dict[Category, str]
    url_withheld: str
    subject: str
    body: str
    respond: str
    hold: str


class Templates(RuleSet):
    reply_to: str
    languages: dict[Literal["kk", "ru", "en"], LanguageTexts]


class BannedSite(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    domain: str
    decision: str
    decided_on: str
    authority: str
    category: Category


class BannedSites(RuleSet):
    sites: list[BannedSite] = Field(default_factory=list)


@dataclass(frozen=True)
class RoutingBook:
    rules: RoutingRules
    templates: Templates
    banned: dict[str, BannedSite]
    directories: Directories

    @classmethod
    def load(cls, options: DispatchOptions) -> RoutingBook:
        banned = load_rules(options.banned_sites, BannedSites)
        return cls(
            rules=load_rules(options.routing_rules, RoutingRules),
            templates=load_rules(options.notice_templates, Templates),
            banned={site.domain: site for site in banned.sites},
            directories=load_directories(),
        )

    @property
    def version(self) -> str:
        return f"routing {self.rules.version}, templates {self.templates.version}"


# ---------------------------------------------------------------- pure decision


def notice_key(case_id: str, recipient: Recipient, kind: str) -> str:
    """The idempotency key: one per (case, recipient, notice kind), stable across replays."""
    text = f"{case_id}|{recipient.kind}:{recipient.address}|{kind}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _holds(when: When, case: CaseSnapshot, category: Category, book: RoutingBook) -> bool:
    located = case.jurisdiction
    assert located is not None
    found = {r.kind for r in located.recipients}
    checks = [
        when.jurisdiction is None or located.jurisdiction.value in when.jurisdiction,
        when.handled_by is None or located.handled_by in when.handled_by,
        when.has is None or when.has in found,
        when.lacks is None or when.lacks not in found,
    ]
    if when.categories is not None:
        wanted = set(when.categories)
        if "banned" in wanted:
            wanted |= set(book.rules.banned)
        checks.append(category in wanted)
    if when.representative is not None:
        represented = any(
            r.kind == "platform" and r.source == "directory" and r.country == book.directories.home
            for r in located.recipients
        )
        checks.append(represented == when.representative)
    return all(checks)


def _recipients(
    send: Send, case: CaseSnapshot, category: Category, book: RoutingBook
) -> list[Recipient]:
    if send.to in _AUTHORITIES:
        home = book.directories.home
        return [as_recipient(e, home) for e in book.directories.authorities(send.to, category)]
    assert case.jurisdiction is not None
    return [r for r in case.jurisdiction.recipients if r.kind == send.to]


def _media_referral(
    case: CaseSnapshot, category: Category, book: RoutingBook
) -> tuple[NoticeKind, str]:
    """Which referral the media authority gets, and why: a repeat of a banned site, signs of a
    crime, or an offence only."""
    located = case.jurisdiction
    domain = located.domain.registered_domain if located else None
    banned = book.banned.get(domain or "")
    if banned is not None:
        return "blocking_request", (
            f"{domain} is already restricted: decision {banned.decision} of {banned.decided_on} "
            f"by {banned.authority}; the content is back and the decision applies to it."
        )
    media = book.rules.media_authority
    fired = {hit.rule for hit in case.category.rules} if case.category else set()
    if fired & set(media.criminal_signs.get(category, [])):
        return "criminal_referral", media.criminal_basis
    return "administrative_referral", media.administrative_basis


def _evidence(case: CaseSnapshot) -> list[EvidenceRef]:
    content = case.content
    if content is None:
        return []
    found = []
    if content.sha256:
        found.append(EvidenceRef(kind="content", sha256=content.sha256, mime=content.mime))
    stores: tuple[tuple[Literal["evidence", "screenshot"], StoredObject | None], ...] = (
        ("evidence", content.evidence),
        ("screenshot", content.screenshot),
    )
    for kind, stored in stores:
        if stored is not None and stored.sha256 != content.sha256:
            found.append(EvidenceRef(kind=kind, sha256=stored.sha256, mime=stored.mime))
    return found


def _hours(send: Send, recipient: RecipientKind, category: Category, rules: RoutingRules) -> float:
    if send.hours is not None:
        return send.hours
    by_category = rules.deadlines.get(category, {})
    return by_category.get(recipient, rules.deadlines["default"].get(recipient, 72.0))


@dataclass(frozen=True)
class Planned:
    """A notice decided, before its text."""

    rule: RoutingRule
    kind: NoticeKind
    basis: str
    recipient: Recipient
    deadline: datetime
    not_before: datetime | None


@dataclass
class _Plan:
    """What the rules ask for a case: notices by idempotency key, rules fired, and gaps."""

    envelope: Envelope
    category: Category
    evidence: list[EvidenceRef]
    chosen: dict[str, Planned]
    fired: list[str]
    unrouted: list[str]

    @property
    def csam(self) -> bool:
        return self.category is Category.csam

    def add(self, rule: RoutingRule, send: Send, kind: NoticeKind, basis: str,
            recipient: Recipient, book: RoutingBook) -> None:  # fmt: skip
        issued = self.envelope.occurred_at
        held = self.csam and kind in _HELD_KINDS and recipient.kind not in _AUTHORITIES
        if held and not any(e.kind == "content" for e in self.evidence):
            self.unrouted.append(
                f"{rule.id}: {kind} to {recipient.name} withheld: the content's hashes are not"
                " preserved"
            )
            return
        not_before = issued + timedelta(hours=book.rules.police_hold_hours) if held else None
        hours = _hours(send, recipient.kind, self.category, book.rules)
        deadline = (not_before or issued) + timedelta(hours=hours)
        key = notice_key(self.envelope.case_id, recipient, kind)
        earlier = self.chosen.get(key)
        if earlier is None or deadline < earlier.deadline:  # the stricter rule's deadline wins
            self.chosen[key] = Planned(rule, kind, basis, recipient, deadline, not_before)


def _plan(envelope: Envelope, book: RoutingBook) -> _Plan:
    case = envelope.case
    decided = case.category.category if case.category else None
    plan = _Plan(envelope, decided or case.report.category, _evidence(case), {}, [], [])
    for rule in book.rules.rules:
        if not _holds(rule.when, case, plan.category, book):
            continue
        plan.fired.append(rule.id)
        for send in rule.send:
            kind: NoticeKind
            if send.kind == "media_referral":
                kind, basis = _media_referral(case, plan.category, book)
            else:
                kind, basis = send.kind, rule.basis
            recipients = _recipients(send, case, plan.category, book)
            if not recipients:
                plan.unrouted.append(f"{rule.id}: no {send.to} to send a {kind} to")
            for recipient in recipients:
                plan.add(rule, send, kind, basis, recipient, book)
    return plan


def _notice(key: str, planned: Planned, plan: _Plan, book: RoutingBook) -> Notice:
    envelope = plan.envelope
    report = envelope.case.report
    may_see = not plan.csam or planned.recipient.kind in _MAY_SEE_CSAM_URL
    url = report.url if may_see else None
    texts = book.templates.languages.get(planned.recipient.language)
    texts = texts or book.templates.languages["en"]
    values = {
        "case_id": envelope.case_id,
        "kind": texts.kinds[planned.kind],
        "category": texts.categories.get(plan.category, str(plan.category)),
        "url": url if url is not None else texts.url_withheld,
        "host": report.host,
        "evidence": ", ".join(f"{e.kind} {e.sha256}" for e in plan.evidence) or "-",
        "deadline": planned.deadline.strftime("%Y-%m-%d %H:%M UTC"),
        "basis": planned.basis,
        "reply_to": book.templates.reply_to,
        "hold": texts.hold if planned.not_before is not None else "",
    }
    values["respond"] = texts.respond.format_map(values)
    return Notice(
        idempotency_key=key,
        case_id=envelope.case_id,
        kind=planned.kind,
        recipient=planned.recipient,
        rule=planned.rule.id,
        basis=planned.basis,
        category=plan.category,
        url=url,
        host=report.host,
        evidence=plan.evidence,
        issued_at=envelope.occurred_at,
        not_before=planned.not_before,
        deadline=planned.deadline,
        language=planned.recipient.language,
        subject=texts.subject.format_map(values),
        body=texts.body.format_map(values),
    )


def route(envelope: Envelope, book: RoutingBook) -> tuple[list[Notice], RoutingDecision]:
    """The notices the rules ask for, one per idempotency key, the police and hotlines first;
    and the routing decision that lists them (no notices: the case goes to review)."""
    if envelope.case.jurisdiction is None:
        raise ValueError("the case has not been located: no jurisdiction facts")
    plan = _plan(envelope, book)
    notices = [_notice(key, planned, plan, book) for key, planned in plan.chosen.items()]
    notices.sort(
        key=lambda n: (n.not_before is not None, n.recipient.kind not in _MAY_SEE_CSAM_URL)
    )
    decision = RoutingDecision(
        decided_at=envelope.occurred_at,
        rules=plan.fired,
        ruleset_version=book.version,
        notices=[n.idempotency_key for n in notices],
        recipients=[f"{n.recipient.kind}: {n.recipient.name}" for n in notices],
        unrouted=plan.unrouted,
    )
    return notices, decision


# ---------------------------------------------------------------- agent wiring


def build(context: StageContext) -> Handler:
    book = RoutingBook.load(context.options(DispatchOptions))

    async def handle(inbound: Inbound) -> list[Outbound]:
        previous = read_envelope(inbound.value)
        notices, decision = route(previous, book)
        case = previous.case.model_copy(update={"routing": decision})
        if not notices:
            envelope = next_envelope(previous, STAGE, Outcome.review, Unrouted.unroutable, case)
            return [envelope_output(REVIEW, envelope)]
        envelope = next_envelope(previous, STAGE, Outcome.continue_, None, case)
        key = previous.case_id.encode()
        return [
            envelope_output(DISPATCHED, envelope),
            *(
                Outbound(
                    NOTICES,
                    key,
                    n.model_dump_json().encode(),
                    case_id=n.case_id,
                    event_id=n.idempotency_key,
                )
                for n in notices
            ),
        ]

    return handle


SPEC = StageSpec(
    name=STAGE,
    inputs=INPUTS,
    outputs=OUTPUTS,
    build=build,
    identify=input_event_id,
    concurrent=False,
    reasons=(Unrouted,),
    options=DispatchOptions,
)
