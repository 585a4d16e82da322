"""The committed JSON Schemas match the models; intake services rely on them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from schemas.export import PUBLISHED, SCHEMA_DIR, export_schemas, schema_text


@pytest.mark.parametrize("filename", sorted(PUBLISHED))
def test_committed_schema_matches_the_model(filename: str) -> None:
    committed = (SCHEMA_DIR / filename).read_text()
    assert committed == schema_text(PUBLISHED[filename]), (
        f"schemas/{filename} is stale: run `hotline schema export schemas`"
    )


def test_export_writes_every_schema(tmp_path: Path) -> None:
    written = export_schemas(tmp_path)
    assert sorted(p.name for p in written) == sorted(PUBLISHED)
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["additionalProperties"] is False
    assert "csam" in json.dumps(report)
    assert "url" in report["required"]
