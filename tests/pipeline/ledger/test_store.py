"""The ledger store on SQLite and PostgreSQL: once per event, in the case's order, chained."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from pipeline.config import Settings
from pipeline.ledger.store import Ledger, LedgerMessage, ledger_topics
from pipeline.ledger.tables import cases, contacts, entries, registry
from pipeline.runtime.topics import LEDGER_CONTACTS
from pipeline.sandbox.histories import case_history
from schemas import Category, LedgerContact, ReporterContact

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def histories(count: int, seed: int = 7) -> list[LedgerMessage]:
    chooser = random.Random(seed)
    messages: list[LedgerMessage] = []
    for n in range(count):
        messages += case_history(
            f"HL-TEST-{n:04d}",
            f"site{n}.kz",
            chooser.choice(list(Category)),
            START + timedelta(minutes=n),
            ending=chooser.choice(["dispatched", "dispatched", "terminated", "review"]),
            blocking=n % 3 == 0,
        )
    return messages


def open_ledger(url: str) -> Ledger:
    return Ledger(url, topic_kinds=ledger_topics(Settings()))


def dump(ledger: Ledger) -> dict[str, list[tuple[Any, ...]]]:
    """Every rebuilt table's rows, the entries without their row number."""
    with ledger.engine.connect() as conn:
        return {
            "entries": [
                tuple(row)[1:]
                for row in conn.execute(select(entries).order_by(entries.c.case_id, entries.c.seq))
            ],
            "cases": [tuple(r) for r in conn.execute(select(cases).order_by(cases.c.case_id))],
            "registry": [
                tuple(r) for r in conn.execute(select(registry).order_by(registry.c.entry_id))
            ],
            "contacts": [
                tuple(r) for r in conn.execute(select(contacts).order_by(contacts.c.case_id))
            ],
        }


def test_every_event_is_kept_once_in_its_order(database_url: str) -> None:
    ledger = open_ledger(database_url)
    messages = histories(12)
    first = ledger.record(messages)
    assert first.appended == len(messages) and not first.unreadable
    again = ledger.record(messages[:30])  # a redelivery, or a replay of the same events
    assert again.appended == 0 and again.duplicates == 30
    with ledger.engine.connect() as conn:
        kept = conn.execute(select(entries.c.case_id, entries.c.seq, entries.c.order_key)).all()
    assert len(kept) == len(messages)
    by_case: dict[str, list[tuple[int, str]]] = {}
    for case_id, seq, key in kept:
        by_case.setdefault(case_id, []).append((seq, key))
    for rows in by_case.values():
        rows.sort()
        assert [seq for seq, _ in rows] == list(range(1, len(rows) + 1))
        assert [key for _, key in rows] == sorted(key for _, key in rows)
    assert all(not ledger.verify(case_id) for case_id in by_case)


def test_read_in_any_order_the_ledger_is_the_same(database_url: str, tmp_path: Any) -> None:
    """What `ledger rebuild` relies on: partitions read in another order make the same rows,
    hashes included, however the messages are batched."""
    messages = histories(20)
    live = open_ledger(database_url)
    for message in messages:
        live.record([message])
    shuffled = messages[:]
    random.Random(3).shuffle(shuffled)
    rebuilt = open_ledger(f"sqlite:///{tmp_path / 'rebuilt.db'}")
    for start in range(0, len(shuffled), 9):
        rebuilt.record(shuffled[start : start + 9] + shuffled[start : start + 2])
    assert dump(rebuilt) == dump(live)


def tamper(ledger: Ledger, case_id: str, place: int, **values: Any) -> None:
    with ledger.engine.begin() as conn:
        conn.execute(
            update(entries)
            .where(entries.c.case_id == case_id, entries.c.seq == place)
            .values(values)
        )


@pytest.fixture
def kept(database_url: str) -> Ledger:
    ledger = open_ledger(database_url)
    ledger.record(case_history("HL-TAMP-0001", "a.kz", Category.gambling, START, blocking=True))
    ledger.record(case_history("HL-TAMP-0002", "b.kz", Category.drugs, START))
    assert ledger.verify("HL-TAMP-0001") == []
    return ledger


def test_an_edited_payload_is_found(kept: Ledger) -> None:
    with kept.engine.connect() as conn:
        payload = conn.execute(
            select(entries.c.payload).where(entries.c.case_id == "HL-TAMP-0001", entries.c.seq == 4)
        ).scalar_one()
    tamper(kept, "HL-TAMP-0001", 4, payload=payload.replace('"confirmed"', '"not_illegal"'))
    problems = kept.verify("HL-TAMP-0001")
    assert any("hash does not match" in p for p in problems)
    assert kept.verify("HL-TAMP-0002") == []


def test_an_edited_column_is_found(kept: Ledger) -> None:
    tamper(kept, "HL-TAMP-0001", 3, outcome="terminated")
    assert any("differ from its payload" in p for p in kept.verify("HL-TAMP-0001"))


def test_a_removed_entry_is_found(kept: Ledger) -> None:
    with kept.engine.begin() as conn:
        conn.execute(delete(entries).where(entries.c.case_id == "HL-TAMP-0001", entries.c.seq == 2))
    problems = kept.verify("HL-TAMP-0001")
    assert any("missing" in p for p in problems)
    assert any("does not follow" in p for p in problems)


def test_a_removed_last_entry_is_found(kept: Ledger) -> None:
    with kept.engine.connect() as conn:
        last = conn.execute(select(entries.c.seq).where(entries.c.case_id == "HL-TAMP-0002")).all()
    with kept.engine.begin() as conn:
        conn.execute(
            delete(entries).where(
                entries.c.case_id == "HL-TAMP-0002", entries.c.seq == max(r[0] for r in last)
            )
        )
    assert any("removed" in p for p in kept.verify("HL-TAMP-0002"))


def test_reordered_entries_are_found(kept: Ledger) -> None:
    tamper(kept, "HL-TAMP-0001", 2, seq=99)
    tamper(kept, "HL-TAMP-0001", 3, seq=2)
    tamper(kept, "HL-TAMP-0001", 99, seq=3)
    problems = kept.verify("HL-TAMP-0001")
    assert any("out of order" in p for p in problems)


def test_unreadable_messages_are_named_not_kept(database_url: str) -> None:
    ledger = open_ledger(database_url)
    result = ledger.record(
        [
            LedgerMessage("hotline.received", b"{not json"),
            LedgerMessage("hotline.notices", b'{"idempotency_key": 3}'),
            LedgerMessage("hotline.intake", b"{}"),  # a topic the ledger does not keep
        ]
    )
    assert result.appended == 0
    assert [why.split(":")[0] for _, why in result.unreadable] == [
        "not a envelope record",
        "not a notice record",
        "the ledger keeps nothing of hotline.intake",
    ]


def contact_message(case_id: str, **changes: Any) -> LedgerMessage:
    record = LedgerContact(
        case_id=case_id,
        submission_id="s-1",
        recorded_at=START,
        contact=ReporterContact(name="Айгүл", email="aigul@example.kz"),
        status_token_sha256="0" * 64,
    ).model_copy(update=changes)
    return LedgerMessage(LEDGER_CONTACTS, record.model_dump_json().encode(), case_id.encode())


def test_a_reporter_is_forgotten_without_breaking_the_chain(database_url: str) -> None:
    ledger = open_ledger(database_url)
    ledger.record(case_history("HL-FORG-0001", "c.kz", Category.hate, START))
    ledger.record([contact_message("HL-FORG-0001")])
    kept = ledger.contact("HL-FORG-0001")
    assert kept is not None and kept.contact is not None and kept.contact.name == "Айгүл"
    erasure = ledger.forget("HL-FORG-0001")
    assert erasure is not None and erasure.contact is None and erasure.erased_at is not None
    gone = ledger.contact("HL-FORG-0001")
    assert gone is not None and gone.contact is None and gone.erased_at is not None
    assert ledger.verify("HL-FORG-0001") == []
    # An older copy of the contact read again (a rebuild before compaction) stays erased.
    ledger.record([contact_message("HL-FORG-0001")])
    again = ledger.contact("HL-FORG-0001")
    assert again is not None and again.contact is None
    assert ledger.forget("HL-NONE-0000") is None


def test_keys_are_stored_hashed_with_their_role(database_url: str) -> None:
    ledger = open_ledger(database_url)
    secret = ledger.create_key("reviewer", "R. Reviewer")
    assert ledger.role_of(secret) == "reviewer" and ledger.key_label(secret) == "R. Reviewer"
    assert ledger.role_of(secret + "x") is None
    with ledger.engine.connect() as conn:
        stored = conn.execute(select(contacts)).all()
    assert stored == []
    listed = ledger.list_keys()
    assert len(listed) == 1 and secret not in str(listed)
    assert ledger.revoke_key(listed[0]["key_id"]) and ledger.role_of(secret) is None
    with pytest.raises(ValueError):
        ledger.create_key("admin", "nobody")  # type: ignore[arg-type]


def test_two_writers_on_one_case_keep_one_chain(database_url: str) -> None:
    """Receipts are keyed by notice, so two ledger workers can append to one case at once."""
    import threading

    messages = histories(6, seed=11)
    writers = [open_ledger(database_url), open_ledger(database_url)]
    halves = [messages[0::2], messages[1::2]]
    failures: list[BaseException] = []

    def write(ledger: Ledger, part: list[LedgerMessage]) -> None:
        try:
            for message in part:
                ledger.record([message])
        except BaseException as error:  # reported below, not lost in the thread
            failures.append(error)

    threads = [
        threading.Thread(target=write, args=pair) for pair in zip(writers, halves, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    ledger = writers[0]
    assert len(dump(ledger)["entries"]) == len(messages)
    assert all(ledger.verify(case_id) == [] for case_id in ledger.case_ids())
