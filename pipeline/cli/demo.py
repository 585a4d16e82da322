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
from pipeline.ledger import views
from pipeline.ledger.store import Ledger
from pipeline.runtime.kafka_io import read_topic
from pipeline.runtime.topics import DELIVERIES, NOTICES, REVIEW, TERMINATED


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


async def notices_settled(
    bootstrap: str, ends: dict[str, dict[str, Any]], timeout: float, console: Console
) -> dict[str, dict[str, Any]]:
    """Each dispatched case's notices with their latest receipt, waiting up to `timeout`
    seconds for the delivery worker to have answered for all of them."""
    wanted = {
        key
        for end in ends.values()
        for key in (end["case"].get("routing") or {}).get("notices", [])
    }
    found: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + timeout
    with console.status("waiting for the notices") as status:
        while True:
            receipts = {}
            for record in await read_topic(bootstrap, DELIVERIES):
                receipt = orjson.loads(record.value)
                receipts[receipt["idempotency_key"]] = receipt
            for record in await read_topic(bootstrap, NOTICES):
                notice = orjson.loads(record.value)
                key = notice.get("idempotency_key")
                if key in wanted:
                    found[key] = {**notice, "receipt": receipts.get(key)}
            answered = sum(1 for key in wanted if (found.get(key) or {}).get("receipt"))
            status.update(f"waiting for the notices: {answered} of {len(wanted)} answered")
            if answered == len(wanted) or time.monotonic() > deadline:
                return found
            await asyncio.sleep(1.0)


def ledger_settled(
    ledger: Ledger,
    ends: dict[str, dict[str, Any]],
    notices: dict[str, dict[str, Any]],
    timeout: float,
    console: Console,
) -> dict[str, dict[str, Any]]:
    """Each finished case as the ledger holds it (what its reporter sees, its entries, whether
    its chain is intact), once the ledger has its end event and its notices' receipts."""
    wanted = {case_id: {end["event_id"]} for case_id, end in ends.items()}
    for notice in notices.values():
        receipt = notice.get("receipt")
        if receipt:
            key = f"{receipt['idempotency_key']}:{receipt['status']}"
            wanted.setdefault(notice["case_id"], set()).add(key)
    deadline = time.monotonic() + timeout
    with console.status("waiting for the ledger") as status:
        while True:
            held = {case_id: views.timeline(ledger, case_id) for case_id in wanted}
            done = [
                case_id
                for case_id, ids in wanted.items()
                if ids <= {entry.entry_id for entry in held[case_id]}
            ]
            status.update(f"waiting for the ledger: {len(done)} of {len(wanted)} cases")
            if len(done) == len(wanted) or time.monotonic() > deadline:
                break
            time.sleep(1.0)
    found = {}
    for case_id in wanted:
        seen = views.public_status(ledger, case_id)
        found[case_id] = {
            "status": seen.status if seen else None,
            "entries": len(held[case_id]),
            "intact": not ledger.verify(case_id),
        }
    return found


def summaries(
    case_ids: list[str],
    ends: dict[str, dict[str, Any]],
    notices: dict[str, dict[str, Any]] | None = None,
    at_sink: set[str] | None = None,
    ledger: dict[str, dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
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
        routing = case.get("routing") or {}
        sent = [(notices or {}).get(key) for key in routing.get("notices", [])]
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
                "notices": [_sent(n, at_sink or set()) for n in sent if n is not None],
                "ledger": (ledger or {}).get(case_id),
            }
        )
    return lines


def summary_table(lines: list[dict[str, Any]]) -> Table:
    table = Table(title="Sample cases")
    columns = (
        "case", "url", "reported", "ended", "verdict", "kept", "where", "recipients", "ledger",
    )  # fmt: skip
    for column in columns:
        table.add_column(column, no_wrap=column in ("case", "url"))
    for line in lines:
        if not line["finished"]:
            table.add_row(line["case_id"], "", "", "[red]not finished[/]", *[""] * 5)
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
            _held(line.get("ledger")),
        )
    return table


def _held(ledger: dict[str, Any] | None) -> str:
    """What the ledger holds of the case: what the reporter sees, entries, the chain."""
    if not ledger:
        return "[red]not in the ledger[/]"
    chain = "chain intact" if ledger["intact"] else "[red]chain broken[/]"
    return f"{ledger['status']}, {ledger['entries']} entries, {chain}"


def _sent(notice: dict[str, Any], at_sink: set[str]) -> dict[str, Any]:
    receipt = notice.get("receipt") or {}
    return {
        "key": notice["idempotency_key"],
        "kind": notice["kind"],
        "recipient": notice["recipient"]["kind"],
        "name": notice["recipient"]["name"],
        "address": notice["recipient"]["address"],
        "language": notice["language"],
        "deadline": notice["deadline"],
        "status": receipt.get("status"),
        "at_sink": notice["idempotency_key"] in at_sink,
    }


def notices_table(lines: list[dict[str, Any]]) -> Table:
    """Every notice of the dispatched cases, its recipient, and what became of it."""
    table = Table(title="Notices sent, as the sandbox's sinks received them")
    for column in ("case", "notice", "to", "address", "lang", "due", "delivery"):
        table.add_column(column, no_wrap=column != "address")
    for line in lines:
        for n, notice in enumerate(line.get("notices") or []):
            table.add_row(
                line["case_id"] if n == 0 else "",
                notice["kind"].replace("_", " "),
                notice["recipient"].replace("_", " "),
                notice["address"],
                notice["language"],
                notice["deadline"][:10],
                _delivery(notice),
            )
    return table


def _delivery(notice: dict[str, Any]) -> str:
    status = notice["status"]
    if status == "delivered":
        return "[green]mailed (at the sink)[/]" if notice["at_sink"] else "[green]delivered[/]"
    if status == "manual":
        return "[cyan]form: by hand[/]"
    return f"[yellow]{status or 'not yet'}[/]"


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
