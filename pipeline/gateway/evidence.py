"""The evidence a reviewer may open: only what the case's own envelope recorded.

Bytes come from the content-addressed evidence store (`pipeline.content.evidence`), found by the
SHA-256 the case recorded, never by a hash a caller names; a case whose content is withheld
(child sexual abuse material) has none, whatever a store might hold.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from pipeline.content.evidence import EvidenceStore
from schemas import Envelope, StoredObject

_SHA256 = re.compile(r"[0-9a-f]{64}")


def recorded(envelope: Envelope, which: str) -> StoredObject | None:
    """The case's `screenshot` or `evidence` (the content as fetched), unless withheld."""
    content = envelope.case.content
    if content is None or content.withheld:
        return None
    stored: StoredObject | None = getattr(content, which)
    return stored


def read(root: Path, stored: StoredObject) -> bytes | None:
    """The stored bytes, checked against their hash: a file's name must prove its content."""
    if not _SHA256.fullmatch(stored.sha256):
        return None
    try:
        data = EvidenceStore(root).get(stored.sha256)
    except OSError:
        return None
    return data if hashlib.sha256(data).hexdigest() == stored.sha256 else None
