"""`hotline demo`: the sample reports through every stage built so far, against the sandbox
internet, offline; then a table of how each case ended."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

from pipeline.cli.stages import final_output
from pipeline.runtime.kafka_io import read_topic
from pipeline.runtime.topics import REVIEW, TERMINATED


async def case_ends(
    bootstrap: str, case_ids: set[str], timeout: float, console: Console
) -> dict[str, dict[str, Any]]:
    """The end event of each case, waiting up to `timeout` seconds for all of them."""
    ends: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + timeout
    with console.status("waiting for the cases") as status:
        while True:
            for topic in (final_output(), TERMINATED, REVIEW):  # where the built stages leave cases
                for record in await read_topic(bootstrap, topic):
                    document = orjson.loads(record.value)
                    if document.get("case_id") in case_ids:
                        ends[document["case_id"]] = document
            status.update(f"waiting for the cases: {len(ends)} of {len(case_ids)} done")
            if len(ends) == len(case_ids) or time.monotonic() > deadline:
                return ends
            await asyncio.sleep(1.0)


def summaries(case_ids: list[str], ends: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One line per case: where and how it ended, and what was found and kept."""
    lines = []
    for case_id in case_ids:
        end = ends.get(case_id)
        if end is None:
            lines.append({"case_id": case_id, "finished": False})
            continue
        case = end["case"]
        content = case.get("content") or {}
        found = case.get("category") or {}
        located = case.get("jurisdiction") or {}
        lines.append(
            {
                "case_id": case_id,
                "finished": True,
                "url": case["report"]["url"],
                "category": case["report"]["category"],
                "stage": end["stage"],
                "outcome": end["outcome"],
                "reason": end["reason"],
                "verdict": found.get("verdict"),
                "found": found.get("category") or found.get("suggested"),
                "language": content.get("language"),
                "hash_banks": sorted({m["bank"] for m in content.get("hash_matches", [])}),
                "kept": _kept(content),
                "jurisdiction": located.get("jurisdiction"),
                "country": located.get("country"),
                "rule": located.get("rule"),
                "recipients": [
                    {"kind": r["kind"], "name": r["name"], "address": r["address"]}
                    for r in located.get("recipients", [])
                ],
            }
        )
    return lines


def summary_table(lines: list[dict[str, Any]]) -> Table:
    table = Table(title="Sample cases")
    columns = ("case", "url", "reported", "ended", "verdict", "kept", "where", "recipients")
    for column in columns:
        table.add_column(column, no_wrap=column in ("case", "url"))
    for line in lines:
        if not line["finished"]:
            table.add_row(line["case_id"], "", "", "[red]not finished[/]", *[""] * 4)
            continue
        table.add_row(
            line["case_id"],
            line["url"].removeprefix("http://"),
            line["category"],
            _ended(line),
            _verdict(line),
            ", ".join(line["kept"] + line["hash_banks"]),
            _where(line),
            ", ".join(r["kind"] for r in line["recipients"]),
        )
    return table


def recipients_table(lines: list[dict[str, Any]]) -> Table:
    """Who can act on each case that went through jurisdiction, and where to reach them."""
    table = Table(title="Who can act on each case")
    for column in ("case", "recipient", "name", "address"):
        table.add_column(column, no_wrap=column in ("case", "address"))
    for line in lines:
        for n, recipient in enumerate(line.get("recipients") or []):
            table.add_row(
                line["case_id"] if n == 0 else "",
                recipient["kind"],
                recipient["name"],
                recipient["address"],
            )
    return table


def _where(line: dict[str, Any]) -> str:
    if line["jurisdiction"] is None:
        return ""
    country = f" {line['country']}" if line["country"] else ""
    return f"{line['jurisdiction']}{country} ({line['rule']})"


def _ended(line: dict[str, Any]) -> str:
    if line["outcome"] == "continue":
        return f"[green]through {line['stage']}[/]"
    if line["outcome"] == "review":
        return f"[cyan]in review after {line['stage']}[/]"
    return f"[yellow]{line['outcome']} at {line['stage']}: {line['reason']}[/]"


def _verdict(line: dict[str, Any]) -> str:
    verdict, found = line.get("verdict"), line.get("found")
    if verdict is None:
        return ""
    return f"{verdict} ({found})" if found and verdict != "not_illegal" else verdict


def _kept(content: dict[str, Any]) -> list[str]:
    if content.get("withheld"):
        return ["hashes only (csam)"]
    return [name for name in ("evidence", "screenshot") if content.get(name)]
