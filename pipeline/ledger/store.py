"""The case ledger: every event of every case, once, in the case's order, hash-chained.

One code path for SQLite (the default, a file in the data directory) and PostgreSQL
(`HOTLINE_DATABASE_URL`), through SQLAlchemy Core. An entry's place is its order key (the
event's own time, its step in a case's life, its id), never the order the ledger read it in:
an entry read late is put in its place and the case's chain is made again from there, so the
live ledger and one rebuilt from the topics are the same, row for row and hash for hash.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, create_engine, delete, event, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from pipeline.config import Settings
from pipeline.ledger.facts import Fact, Unreadable, iso, read_contact, read_fact
from pipeline.ledger.fold import CaseFold, Row, new_case
from pipeline.ledger.tables import (
    REBUILT,
    api_keys,
    appeals,
    cases,
    contacts,
    entries,
    metadata,
    registry,
)
from pipeline.runtime.topics import load_topics
from schemas import LedgerContact
from schemas.ledger import ROLES, Role

GENESIS = "0" * 64
_CHUNK = 500  # ids per IN (…) list
_ATTEMPTS = 5  # transactions tried when another writer got in between


@dataclass(frozen=True)
class LedgerMessage:
    """A message as read from one of the ledger's topics."""

    topic: str
    value: bytes
    key: bytes | None = None


@dataclass
class Recorded:
    appended: int = 0
    duplicates: int = 0
    contacts: int = 0
    unreadable: list[tuple[LedgerMessage, str]] = field(default_factory=list)


def ledger_topics(settings: Settings) -> dict[str, str]:
    """The topics the ledger keeps and the record kind each carries (topics.yaml `ledger:`)."""
    return {
        name: spec.ledger for name, spec in load_topics(settings.topics_file).items() if spec.ledger
    }


def entry_hash(prev_hash: str, seq: int, row: Mapping[str, Any]) -> str:
    """The hash of an entry: its place, what it is, its payload, and the entry before it."""
    payload = hashlib.sha256(str(row["payload"]).encode()).hexdigest()
    material = orjson.dumps(
        [
            prev_hash,
            seq,
            row["case_id"],
            row["entry_id"],
            row["topic"],
            row["kind"],
            row["at"],
            payload,
        ]
    )
    return hashlib.sha256(material).hexdigest()


def fact_of_row(row: Mapping[str, Any]) -> Fact:
    """The fact an entry was made from, read again from its stored payload."""
    reader = "appeal" if row["kind"] == "appeal_decision" else row["kind"]
    return read_fact(row["topic"], reader, str(row["payload"]).encode())


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


class Ledger:
    def __init__(
        self,
        url: str,
        *,
        topic_kinds: Mapping[str, str] | None = None,
        sentences: Mapping[str, str] | None = None,
    ) -> None:
        self.url = url
        self.engine: Engine = create_engine(url)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin)
        metadata.create_all(self.engine)
        self.kinds = dict(topic_kinds) if topic_kinds is not None else None
        # Reason code → the sentence a reporter is told (given by whoever composes the stages).
        self.sentences = dict(sentences or {})

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> Ledger:
        if not settings.database_url:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        options.setdefault("topic_kinds", ledger_topics(settings))
        return cls(settings.ledger_url(), **options)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        """A transaction that writes: on SQLite it takes the write lock at its start, so what
        it reads is still so when it writes (another writer waits, `busy_timeout`)."""
        with self.engine.connect() as conn:
            conn.info["writer"] = True  # the DBAPI connection's: taken off again below
            try:
                with conn.begin():
                    yield conn
            finally:
                conn.info.pop("writer", None)

    # --- writing -------------------------------------------------------------------------

    def record(self, messages: Iterable[LedgerMessage]) -> Recorded:
        """Keep the messages' events (a redelivered or replayed one once), in one transaction."""
        result = Recorded()
        facts: list[Fact] = []
        people: list[LedgerContact] = []
        kinds = self.kinds or {}
        for message in messages:
            kind = kinds.get(message.topic)
            try:
                if kind is None:
                    raise Unreadable(f"the ledger keeps nothing of {message.topic}")
                if kind == "contact":
                    people.append(read_contact(message.value))
                else:
                    facts.append(read_fact(message.topic, kind, message.value))
            except Unreadable as problem:
                result.unreadable.append((message, str(problem)))
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                with self._writing() as conn:
                    result.contacts = self._keep_contacts(conn, people)
                    result.appended, result.duplicates = self._append(conn, facts)
                return result
            except (IntegrityError, OperationalError):
                # Another writer appended to one of these cases meanwhile (or held the
                # database): read the new heads and try again.
                if attempt == _ATTEMPTS:
                    raise
                time.sleep(0.01 * attempt)
        return result

    def _append(self, conn: Connection, facts: list[Fact]) -> tuple[int, int]:
        by_case: dict[str, dict[str, Fact]] = {}
        for fact in facts:
            by_case.setdefault(fact.case_id, {}).setdefault(fact.entry_id, fact)
        if not by_case:
            return 0, len(facts)
        ids = sorted(by_case)
        known: dict[str, set[str]] = {}
        summaries: dict[str, Row] = {}
        registry_rows: dict[str, dict[str, Row]] = {}
        appeal_rows: dict[str, dict[str, Row]] = {}
        for chunk in _chunks(ids):
            # The cases' heads first, locked (PostgreSQL; SQLite has one writer at a time): a
            # second writer of one case waits here, then reads the history the first left.
            heads = select(cases).where(cases.c.case_id.in_(chunk)).order_by(cases.c.case_id)
            for head in conn.execute(heads.with_for_update()).mappings():
                summaries[head["case_id"]] = dict(head)
            for case_id, entry_id in conn.execute(
                select(entries.c.case_id, entries.c.entry_id).where(entries.c.case_id.in_(chunk))
            ):
                known.setdefault(case_id, set()).add(entry_id)
            for row in _rows_of(conn, registry, chunk):
                registry_rows.setdefault(row["case_id"], {})[row["entry_id"]] = row
            for row in _rows_of(conn, appeals, chunk):
                appeal_rows.setdefault(row["case_id"], {})[row["appeal_id"]] = row
        new_entries: list[Row] = []
        touched: list[str] = []
        appended = 0
        for case_id, found in by_case.items():
            seen = known.get(case_id, set())
            fresh = sorted(
                (f for f in found.values() if f.entry_id not in seen), key=lambda f: f.order_key
            )
            if not fresh:
                continue
            appended += len(fresh)
            touched.append(case_id)
            summary = summaries.get(case_id)
            if summary is not None and fresh[0].order_key < summary["head_key"]:
                # Read late: the case is chained and folded again from its first entry.
                history = [fact_of_row(row) for row in _history(conn, case_id)]
                conn.execute(delete(entries).where(entries.c.case_id == case_id))
                fresh = sorted(history + fresh, key=lambda f: f.order_key)
                summary, registry_rows[case_id], appeal_rows[case_id] = new_case(case_id), {}, {}
            elif summary is None:
                summary = new_case(case_id)
            fold = CaseFold(
                summary, registry_rows.setdefault(case_id, {}), appeal_rows.setdefault(case_id, {})
            )
            new_entries.extend(_chained(fresh, summary, fold))
            summaries[case_id] = fold.case
        if not touched:
            return 0, len(facts)
        if new_entries:
            conn.execute(insert(entries), new_entries)
        for chunk in _chunks(touched):
            for table in (cases, registry, appeals):
                conn.execute(delete(table).where(table.c.case_id.in_(chunk)))
        conn.execute(insert(cases), [_complete(cases, summaries[c]) for c in touched])
        registry_out = [row for c in touched for row in registry_rows.get(c, {}).values()]
        if registry_out:
            conn.execute(insert(registry), registry_out)
        appeals_out = [row for c in touched for row in appeal_rows.get(c, {}).values()]
        if appeals_out:
            conn.execute(insert(appeals), appeals_out)
        return appended, len(facts) - appended

    def _keep_contacts(self, conn: Connection, people: list[LedgerContact]) -> int:
        kept = 0
        for person in people:
            row = conn.execute(
                select(contacts.c.erased_at).where(contacts.c.case_id == person.case_id)
            ).first()
            if row is not None and row.erased_at is not None:
                continue  # an erasure is final: an older copy of the contact never comes back
            values = {
                "case_id": person.case_id,
                "submission_id": person.submission_id,
                "contact": person.contact.model_dump_json() if person.contact else None,
                "status_token_sha256": person.status_token_sha256,
                "recorded_at": iso(person.recorded_at),
                "erased_at": iso(person.erased_at) if person.erased_at else None,
            }
            if person.erased_at is not None:
                values["contact"] = None
            if row is None:
                conn.execute(insert(contacts), [values])
            else:
                conn.execute(
                    update(contacts).where(contacts.c.case_id == person.case_id).values(values)
                )
            kept += 1
        return kept

    def reset(self) -> None:
        """Empty every table a rebuild fills (keys stay)."""
        with self._writing() as conn:
            for table in REBUILT:
                conn.execute(delete(table))

    # --- reporter contacts ----------------------------------------------------------------

    def contact(self, case_id: str) -> LedgerContact | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(contacts).where(contacts.c.case_id == case_id)).mappings()
            found = row.first()
        if found is None:
            return None
        return LedgerContact.model_validate(
            {
                "case_id": found["case_id"],
                "submission_id": found["submission_id"],
                "recorded_at": found["recorded_at"],
                "contact": orjson.loads(found["contact"]) if found["contact"] else None,
                "status_token_sha256": found["status_token_sha256"],
                "erased_at": found["erased_at"],
            }
        )

    def forget(self, case_id: str) -> LedgerContact | None:
        """Erase the reporter's contact; the erasure record, to publish so a rebuild keeps it
        erased. None: the ledger holds no contact for the case."""
        kept = self.contact(case_id)
        if kept is None:
            return None
        erasure = kept.model_copy(update={"contact": None, "erased_at": datetime.now(UTC)})
        with self._writing() as conn:
            self._keep_contacts(conn, [erasure])
        return erasure

    # --- gateway keys ---------------------------------------------------------------------

    def create_key(self, role: Role, label: str) -> str:
        """A new key for `role`; only its hash is kept, so the secret is shown once."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
        secret = f"hk_{secrets.token_urlsafe(32)}"
        digest = hashlib.sha256(secret.encode()).hexdigest()
        with self._writing() as conn:
            conn.execute(
                insert(api_keys),
                [
                    {
                        "key_id": digest[:12],
                        "key_sha256": digest,
                        "role": role,
                        "label": label,
                        "created_at": iso(datetime.now(UTC)),
                    }
                ],
            )
        return secret

    def _key(self, secret: str) -> Mapping[str, Any] | None:
        digest = hashlib.sha256(secret.encode()).hexdigest()
        query = select(api_keys).where(
            api_keys.c.key_sha256 == digest, api_keys.c.revoked_at.is_(None)
        )
        with self.engine.connect() as conn:
            found = conn.execute(query).mappings().first()
        return dict(found) if found else None

    def role_of(self, secret: str) -> Role | None:
        found = self._key(secret)
        role = found["role"] if found else None
        return role if role in ROLES else None

    def key_label(self, secret: str) -> str | None:
        found = self._key(secret)
        return str(found["label"]) if found else None

    def list_keys(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(
                    api_keys.c.key_id,
                    api_keys.c.role,
                    api_keys.c.label,
                    api_keys.c.created_at,
                    api_keys.c.revoked_at,
                ).order_by(api_keys.c.created_at)
            )
            return [dict(r) for r in rows.mappings()]

    def revoke_key(self, key_id: str) -> bool:
        with self._writing() as conn:
            done = conn.execute(
                update(api_keys)
                .where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=iso(datetime.now(UTC)))
            )
        return bool(done.rowcount)

    # --- checking -------------------------------------------------------------------------

    def verify(self, case_id: str) -> list[str]:
        """What is wrong with the case's chain: an edited, removed or reordered entry."""
        with self.engine.connect() as conn:
            rows = _history(conn, case_id)
            head = conn.execute(select(cases).where(cases.c.case_id == case_id)).mappings().first()
        return chain_problems(case_id, rows, dict(head) if head else None)

    def case_ids(self) -> list[str]:
        with self.engine.connect() as conn:
            found = conn.execute(select(entries.c.case_id).distinct())
            listed = conn.execute(select(cases.c.case_id))
            return sorted({r[0] for r in found} | {r[0] for r in listed})


def chain_problems(
    case_id: str, rows: Sequence[Mapping[str, Any]], head: Mapping[str, Any] | None
) -> list[str]:
    problems: list[str] = []
    prev_hash, prev_key = GENESIS, ""
    for number, row in enumerate(rows, start=1):
        where = f"entry {row['seq']} ({row['entry_id']})"
        if row["seq"] != number:
            problems.append(f"{where}: expected entry {number} here, an entry is missing")
        if row["order_key"] <= prev_key:
            problems.append(f"{where}: out of order")
        try:
            again = fact_of_row(row).columns()
        except Unreadable as problem:
            problems.append(f"{where}: payload unreadable: {problem}")
            again = {}
        changed = [name for name, value in again.items() if row[name] != value]
        if changed:
            problems.append(f"{where}: stored {', '.join(changed)} differ from its payload")
        if row["prev_hash"] != prev_hash:
            problems.append(f"{where}: does not follow the entry before it")
        if row["entry_hash"] != entry_hash(row["prev_hash"], row["seq"], row):
            problems.append(f"{where}: hash does not match its content")
        prev_hash, prev_key = row["entry_hash"], row["order_key"]
    if head is None:
        if rows:
            problems.append("the case has entries but no head")
    elif head["entries"] != len(rows) or head["head_hash"] != prev_hash:
        problems.append(
            f"the head says {head['entries']} entries ending {head['head_hash'][:12]}, "
            f"the history has {len(rows)} ending {prev_hash[:12]}: an entry was removed or added"
        )
    if not rows and head is None:
        problems.append(f"no case {case_id} in the ledger")
    return problems


def _chained(facts: list[Fact], summary: Row, fold: CaseFold) -> list[Row]:
    rows: list[Row] = []
    prev_hash = summary["head_hash"] or GENESIS
    seq = summary["entries"]
    for fact in facts:
        seq += 1
        row = {**fact.columns(), "seq": seq, "prev_hash": prev_hash}
        row["entry_hash"] = prev_hash = entry_hash(prev_hash, seq, row)
        rows.append(row)
        fold.apply(fact)
    fold.case.update(entries=seq, head_hash=prev_hash, head_key=facts[-1].order_key)
    return rows


def _history(conn: Connection, case_id: str) -> list[Row]:
    query = select(entries).where(entries.c.case_id == case_id).order_by(entries.c.seq)
    return [dict(row) for row in conn.execute(query).mappings()]


def _rows_of(conn: Connection, table: Any, case_ids: Sequence[str]) -> list[Row]:
    query = select(table).where(table.c.case_id.in_(case_ids))
    return [dict(row) for row in conn.execute(query).mappings()]


def _complete(table: Any, row: Row) -> Row:
    return {column.name: row.get(column.name) for column in table.columns}


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("writer") else "BEGIN")


def _sqlite_pragmas(connection: Any, _record: object) -> None:
    # The transactions are begun below, not by the driver (which begins only at the first
    # write, leaving what was read before outside the transaction).
    connection.isolation_level = None
    # WAL: the gateway and the CLI read while the ledger worker writes.
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()
