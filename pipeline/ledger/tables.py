"""The ledger's tables (SQLAlchemy Core): one definition for SQLite and PostgreSQL.

Times are stored as fixed-width UTC text (`facts.iso`), so they sort the same in every database
and the hash of an entry never depends on a driver's idea of a timestamp.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, MetaData, String, Table, Text, UniqueConstraint

metadata = MetaData()

_ID = 200
_TIME = 32

# The case histories: every event once, in the case's order, each chained to the one before.
entries = Table(
    "entries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(64), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("entry_id", String(_ID), nullable=False),
    Column("topic", String(_ID), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("at", String(_TIME), nullable=False),
    Column("order_key", String(_ID + 64), nullable=False),
    Column("stage", String(32)),
    Column("outcome", String(64)),
    Column("reason", Text),
    Column("rule", Text),
    Column("actor", String(_ID)),
    Column("summary", Text, nullable=False),
    Column("causation_id", String(_ID)),
    Column("payload", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("entry_hash", String(64), nullable=False),
    UniqueConstraint("case_id", "entry_id", name="entries_once"),
    # One entry per place: two writers appending to one case at once cannot both succeed
    # (the loser's transaction is tried again on the new head).
    UniqueConstraint("case_id", "seq", name="entries_in_order"),
)

# One row per case: the head of its chain and what views need without reading the history.
# Every field is a fold of the case's entries in their order, so a rebuild makes the same row.
cases = Table(
    "cases",
    metadata,
    Column("case_id", String(64), primary_key=True),
    Column("entries", Integer, nullable=False),
    Column("head_key", String(_ID + 64), nullable=False),
    Column("head_hash", String(64), nullable=False),
    Column("host", String(300)),
    Column("category", String(32)),
    Column("reported_category", String(32)),
    Column("envelope_key", String(_ID + 64)),
    Column("status", String(16)),
    Column("status_key", String(_ID + 64)),
    Column("status_at", String(_TIME)),
    Column("status_reason", Text),
    Column("forwarded_to", Text),
    Column("reported_at", String(_TIME)),
    Column("received_at", String(_TIME)),
    Column("verified_at", String(_TIME)),
    Column("dispatched_at", String(_TIME)),
    Column("delivered_at", String(_TIME)),
    Column("confirmed_at", String(_TIME)),
    Column("review_key", String(_ID + 64)),
    Column("review_since", String(_TIME)),
    Index("cases_in_review", "review_since"),
    Index("cases_by_report_time", "reported_at"),
)

# Resources under a blocking request or restriction, for the public registry.
registry = Table(
    "registry",
    metadata,
    Column("entry_id", String(64), primary_key=True),
    Column("case_id", String(64), nullable=False, index=True),
    Column("resource", Text, nullable=False),
    Column("domain", String(300), nullable=False),
    Column("category", String(32), nullable=False),
    Column("legal_basis", Text, nullable=False),
    Column("authority", Text, nullable=False),
    Column("decided_at", String(_TIME), nullable=False),
    Column("status", String(16), nullable=False),
    Column("status_key", String(_ID + 64), nullable=False),
    Column("appeal_outcome", String(16)),
    Column("appeal_reason", Text),
    Column("appeal_decided_at", String(_TIME)),
    Index("registry_by_date", "decided_at"),
)

appeals = Table(
    "appeals",
    metadata,
    Column("appeal_id", String(64), primary_key=True),
    Column("entry_id", String(64), nullable=False),
    Column("case_id", String(64), nullable=False, index=True),
    Column("submitted_at", String(_TIME), nullable=False),
    Column("payload", Text, nullable=False),
    Column("outcome", String(16)),
)

# Reporter contact data: outside the chain, so it can be erased without breaking it.
contacts = Table(
    "contacts",
    metadata,
    Column("case_id", String(64), primary_key=True),
    Column("submission_id", String(200)),
    Column("contact", Text),
    Column("status_token_sha256", String(64), nullable=False),
    Column("recorded_at", String(_TIME), nullable=False),
    Column("erased_at", String(_TIME)),
)

# Gateway keys: only their hashes.
api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", String(16), primary_key=True),
    Column("key_sha256", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("label", String(200), nullable=False),
    Column("created_at", String(_TIME), nullable=False),
    Column("revoked_at", String(_TIME)),
)

# The tables a rebuild makes anew from the topics (keys are not on any topic).
REBUILT = (entries, cases, registry, appeals, contacts)
