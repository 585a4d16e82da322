"""Deterministic identifiers: the same input always yields the same ids, so replays are harmless."""

from __future__ import annotations

import hashlib
import hmac

from aiokafka.partitioner import murmur2

# Crockford's alphabet: no I, L, O, U; easy to read out over the phone.
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _readable(digest: bytes, length: int) -> str:
    """The first `length` base-32 digits of `digest` (5 bits each)."""
    number = int.from_bytes(digest, "big") >> (len(digest) * 8 - 5 * length)
    return "".join(_CROCKFORD[(number >> (5 * i)) & 31] for i in range(length - 1, -1, -1))


def causation_for_intake(submission_id: str | None, partition: int, offset: int) -> str:
    """The identity of an intake message: the intake service's submission id when it gave one
    (a re-sent submission is then the same input), else its place in the intake topic."""
    if submission_id:
        return f"submission:{submission_id}"
    return f"intake:{partition}:{offset}"


def case_id_for(causation_id: str) -> str:
    """`HL-XXXX-XXXX-XXXX`: 60 bits of a hash of the intake identity."""
    code = _readable(hashlib.sha256(b"case|" + causation_id.encode()).digest(), 12)
    return f"HL-{code[0:4]}-{code[4:8]}-{code[8:12]}"


def event_id_for(case_id: str, stage: str, causation_id: str) -> str:
    digest = hashlib.sha256(f"{case_id}|{stage}|{causation_id}".encode()).hexdigest()
    return f"ev-{digest[:32]}"


def status_token_for(case_id: str, secret: str) -> str:
    """The reporter's secret status token: an HMAC of the case id, so nothing needs storing."""
    mac = hmac.new(secret.encode(), case_id.encode(), hashlib.sha256).digest()
    return _readable(mac, 24)


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def partition_for_key(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner picks for `key` (murmur2, as the Java client)."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions
