"""The content-addressed evidence store."""

from __future__ import annotations

import hashlib
from pathlib import Path

from pipeline.content.evidence import EvidenceStore


def test_content_is_stored_once_under_its_sha256(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "evidence")
    data = b"<html>evidence</html>"
    digest = hashlib.sha256(data).hexdigest()
    first = store.put(data, "text/html")
    again = store.put(data, "text/html")
    assert first == again
    assert (first.sha256, first.size, first.mime) == (digest, len(data), "text/html")
    assert store.path_for(digest) == tmp_path / "evidence" / digest[:2] / digest
    assert store.get(digest) == data
    # One file, no temporary left behind.
    assert [p.name for p in (tmp_path / "evidence").rglob("*") if p.is_file()] == [digest]


def test_empty_content_has_its_own_address(tmp_path: Path) -> None:
    stored = EvidenceStore(tmp_path).put(b"", "text/html")
    assert stored.size == 0 and stored.sha256 == hashlib.sha256(b"").hexdigest()
