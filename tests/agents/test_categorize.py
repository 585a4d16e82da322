"""categorize: rules as data, the pure decision, the review queue, through the harness."""

from __future__ import annotations

import asyncio
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agents.categorize import (
    CATEGORIZED,
    REVIEW_DECISIONS,
    REVIEW_RECEIPTS,
    SPEC,
    CategorizeOptions,
    Evidence,
    RuleBook,
    decide,
)
from pipeline.config import Settings
from pipeline.runtime.harness import StageHarness
from pipeline.runtime.rules import RULES_DIR, RuleFileError
from pipeline.runtime.stage import Outbound
from pipeline.runtime.topics import REVIEW, TERMINATED
from schemas import Category, Envelope, ReviewDecision, ReviewReceipt, Verdict
from tests.builders import content_checked

BOOK = RuleBook.load(RULES_DIR / "categorize")
NOW = datetime(2026, 12, 1, tzinfo=UTC)
CASINO = (
    "Лучшее онлайн-казино Казахстана: рабочее зеркало без блокировок, бонус 200% к первому "
    "депозиту и 100 фриспинов. Быстрый вывод выигрышей без верификации."
)
NEWS = (
    "Полиция задержала организаторов незаконного онлайн-казино, сообщили в пресс-службе "
    "прокуратуры. Возбуждено уголовное дело, сайт заблокирован."
)


def verdict_of(text: str, reported: Category, **evidence: object) -> Verdict:
    found = decide(BOOK, Evidence(text, "http://example.kz/", "ru", **evidence), reported, NOW)  # type: ignore[arg-type]
    return found.verdict


def test_a_casino_advert_reported_as_gambling_is_confirmed() -> None:
    found = decide(BOOK, Evidence(CASINO, "http://example.kz/", "ru"), Category.gambling, NOW)
    assert found.verdict is Verdict.confirmed and found.category is Category.gambling
    assert found.ruleset_version == BOOK.version
    assert any(hit.rule.startswith("gambling.") and hit.matched for hit in found.rules)


def test_a_misreported_casino_advert_is_corrected() -> None:
    found = decide(BOOK, Evidence(CASINO, "http://example.kz/", "ru"), Category.hate, NOW)
    assert found.verdict is Verdict.corrected and found.category is Category.gambling


def test_news_about_a_casino_is_not_illegal() -> None:
    found = decide(BOOK, Evidence(NEWS, "http://news.kz/", "ru"), Category.gambling, NOW)
    assert found.verdict is not Verdict.confirmed
    assert any(hit.rule == "exclusion.news" and hit.weight < 0 for hit in found.rules)


def test_a_hash_bank_match_outranks_the_text() -> None:
    found = decide(
        BOOK, Evidence(CASINO, "http://x.kz/", "ru", (Category.terrorism,)), Category.gambling, NOW
    )
    assert (found.verdict, found.category) == (Verdict.corrected, Category.terrorism)
    assert found.confidence == 1.0 and found.evidence == ["hash_bank"]


@pytest.mark.parametrize("reported", [Category.csam, Category.grooming, Category.terrorism])
def test_the_gravest_categories_always_go_to_a_person(reported: Category) -> None:
    assert verdict_of(CASINO, reported) is Verdict.needs_review
    assert verdict_of("Рецепт борща: свекла, капуста, картофель и мясо.", reported) is (
        Verdict.needs_review
    )


def test_a_hash_matched_csam_case_needs_no_person() -> None:
    assert verdict_of("", Category.csam, hash_categories=(Category.csam,)) is Verdict.confirmed


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("", "ru"),  # nothing to read (an image, a video)
        ("\x00\xff\x13 ∑∂ \ufffd", None),  # garbage
        ("这是一个关于在线赌场的网站，提供奖金和免费旋转。", "zh"),  # not a language of the rules
    ],
)
def test_what_the_rules_cannot_read_goes_to_a_person(text: str, language: str | None) -> None:
    found = decide(BOOK, Evidence(text, "http://example.kz/", language), Category.gambling, NOW)
    assert found.verdict is Verdict.needs_review


def test_spelling_tricks_do_not_hide_a_casino() -> None:
    tricks = (
        "К @ З И Н О онлайн: р4бочее зерк@ло, бонуc 150% к депозиту, фриcпины, вывод без "
        "верификации"
    )
    assert verdict_of(tricks, Category.gambling) is Verdict.confirmed


def test_a_huge_text_is_decided() -> None:
    assert verdict_of(CASINO + " слово" * 1_000_000, Category.gambling) is Verdict.confirmed


def test_a_recipe_with_words_a_dealer_uses_is_never_confirmed() -> None:
    text = "Возьмите 200 грамм муки, щепотку соли и два яйца. Доставка продуктов по городу."
    assert verdict_of(text, Category.drugs) in (Verdict.not_illegal, Verdict.needs_review)


# ---------------------------------------------------------------- rule files


def test_a_malformed_rule_file_is_named_with_its_line(tmp_path: Path) -> None:
    rules = tmp_path / "categorize"
    shutil.copytree(RULES_DIR / "categorize", rules)
    text = (rules / "drugs.yaml").read_text().replace("weight: 1.3", "weight: heavy", 1)
    (rules / "drugs.yaml").write_text(text)
    line = text.splitlines().index("    weight: heavy") + 1
    with pytest.raises(RuleFileError) as raised:
        RuleBook.load(rules)
    assert raised.value.path == rules / "drugs.yaml" and raised.value.line == line


def test_a_rule_file_of_another_version_is_refused(tmp_path: Path) -> None:
    rules = tmp_path / "categorize"
    shutil.copytree(RULES_DIR / "categorize", rules)
    path = rules / "sects.yaml"
    path.write_text(path.read_text().replace('version: "', 'version: "old-', 1))
    with pytest.raises(RuleFileError, match="version"):
        RuleBook.load(rules)


# ---------------------------------------------------------------- the stage and its review queue


def decision(case_id: str, verdict: str, reviewer: str, **extra: object) -> bytes:
    return (
        ReviewDecision(
            decision_id=f"{case_id}-{reviewer}",
            case_id=case_id,
            verdict=verdict,  # type: ignore[arg-type]
            reviewer=reviewer,
            note="looked at the screenshot",
            decided_at=NOW,
            **extra,  # type: ignore[arg-type]
        )
        .model_dump_json()
        .encode()
    )


async def feed_case(stage: StageHarness, envelope: Envelope) -> list[Outbound]:
    raw = envelope.model_dump_json().encode()
    return await stage.feed(stage.message(raw, key=envelope.case_id.encode()))


async def feed_decision(stage: StageHarness, raw: bytes, case_id: str) -> ReviewReceipt:
    outputs = await stage.feed(stage.message(raw, key=case_id.encode(), topic=REVIEW_DECISIONS))
    [receipt] = [o for o in outputs if o.topic == REVIEW_RECEIPTS]
    return ReviewReceipt.model_validate_json(receipt.value)


def harness() -> StageHarness:
    return StageHarness(SPEC, Settings(), CategorizeOptions())


def test_cases_end_where_their_verdict_says() -> None:
    async def go() -> StageHarness:
        async with harness() as stage:
            await feed_case(stage, content_checked(CASINO, Category.gambling, case_id="HL-A"))
            await feed_case(
                stage,
                content_checked(
                    "Рецепт борща со сметаной и зеленью.", Category.drugs, case_id="HL-B"
                ),
            )
            await feed_case(stage, content_checked(CASINO, Category.terrorism, case_id="HL-C"))
            return stage

    stage = asyncio.run(go())
    assert [Envelope.model_validate_json(o.value).case_id for o in stage.on(CATEGORIZED)] == [
        "HL-A"
    ]
    [ended] = stage.on(TERMINATED)
    assert Envelope.model_validate_json(ended.value).reason == "not_illegal"
    [waiting] = stage.on(REVIEW)
    review = Envelope.model_validate_json(waiting.value)
    assert review.case_id == "HL-C" and review.case.category is not None
    assert review.case.category.suggested is Category.gambling


def test_an_analysts_decision_moves_the_case_on_and_the_first_one_wins() -> None:
    async def go() -> tuple[StageHarness, list[ReviewReceipt]]:
        async with harness() as stage:
            await feed_case(stage, content_checked(CASINO, Category.terrorism, case_id="HL-R"))
            first = await feed_decision(
                stage, decision("HL-R", "corrected", "aigerim", category="gambling"), "HL-R"
            )
            second = await feed_decision(stage, decision("HL-R", "not_illegal", "bolat"), "HL-R")
            return stage, [first, second]

    stage, (first, second) = asyncio.run(go())
    assert first.accepted and not second.accepted
    assert second.problem == "already_decided" and second.decided_by == "aigerim"
    [moved] = stage.on(CATEGORIZED)  # one event, whoever decides later
    found = Envelope.model_validate_json(moved.value).case.category
    assert found is not None and found.reviewer == "aigerim" and found.note
    assert (found.verdict, found.category) == (Verdict.corrected, Category.gambling)


@pytest.mark.parametrize(
    ("case_id", "raw", "problem"),
    [
        ("HL-NOPE", decision("HL-NOPE", "confirmed", "aigerim"), "unknown_case"),
        ("HL-AUTO", decision("HL-AUTO", "confirmed", "aigerim"), "not_in_review"),
        ("HL-WAIT", decision("HL-WAIT", "corrected", "aigerim"), "invalid"),  # no category
    ],
)
def test_a_decision_that_cannot_be_taken_changes_nothing(
    case_id: str, raw: bytes, problem: str
) -> None:
    async def go() -> tuple[StageHarness, ReviewReceipt]:
        async with harness() as stage:
            await feed_case(stage, content_checked(CASINO, Category.gambling, case_id="HL-AUTO"))
            await feed_case(stage, content_checked(CASINO, Category.csam, case_id="HL-WAIT"))
            before = len(stage.outputs)
            answer = await feed_decision(stage, raw, case_id)
            assert len(stage.outputs) == before + 1  # the receipt, nothing else
            return stage, answer

    _, answer = asyncio.run(go())
    assert not answer.accepted and answer.problem == problem and answer.message


def test_a_case_waiting_in_review_survives_a_restart() -> None:
    async def wait() -> dict[str, object]:
        async with harness() as stage:
            await feed_case(stage, content_checked(CASINO, Category.grooming, case_id="HL-S"))
            return dict(stage.table("review"))

    table = asyncio.run(wait())

    async def decide_after_restart() -> StageHarness:
        async with harness() as restarted:
            restarted.table("review").update(table)
            await feed_decision(restarted, decision("HL-S", "not_illegal", "dana"), "HL-S")
            return restarted

    restarted = asyncio.run(decide_after_restart())
    [ended] = restarted.on(TERMINATED)
    assert Envelope.model_validate_json(ended.value).reason == "not_illegal"
