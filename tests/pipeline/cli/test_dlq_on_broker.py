"""`hotline dlq list|replay STAGE`: on a real broker, content-check dead-letters bytes that are
no case, the letter is listed, replayed once to the topic it was read from (the stage reads it
again), a second replay is refused as already done and a letter cut at the cap is refused;
a notice whose sends failed, replayed, is delivered once. Without a broker (the tests not
marked `broker`): naming letters, and what replaying each would do."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from agents.url_verify import URL_VERIFIED
from pipeline.cli.dlq import REPLAY_HEADER, StoredLetter, choose, decide, newest, shorten
from pipeline.runtime.ids import partition_for_key
from pipeline.runtime.kafka_io import read_topic
from pipeline.runtime.topics import DELIVERIES, NOTICES, dead_letter_topic
from pipeline.sandbox import Sandbox
from schemas import DeadLetter, SourceRef
from tests.fixtures.stage import StageWorkerFactory, group_members, wait_until
from tests.pipeline.cli.test_stage_replay_on_broker import hotline
from tests.pipeline.delivery.test_service import notice
from tests.pipeline.delivery.test_service_on_broker import publish

CHECK_DLQ = dead_letter_topic("content-check")
DELIVERY_DLQ = dead_letter_topic("delivery")
T0 = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)


# ---------------------------------------------------------------- without a broker


def stored(
    partition: int,
    offset: int,
    *,
    source: tuple[str, int, int] = (URL_VERIFIED, 1, 7),
    truncated: bool = False,
    minutes: int = 0,
    key: bytes | None = b"HL-1",
) -> StoredLetter:
    topic, source_partition, source_offset = source
    letter = DeadLetter(
        stage="content-check",
        failed_at=T0 + timedelta(minutes=minutes),
        error_type="PermanentError",
        error="not a case envelope: 1 validation error\n  Invalid JSON",
        attempts=1,
        source=SourceRef(
            topic=topic, partition=source_partition, offset=source_offset, timestamp_ms=0
        ),
        key_b64=base64.b64encode(key).decode() if key is not None else None,
        original_b64=base64.b64encode(b"garbage").decode(),
        original_size=9000 if truncated else 7,
        original_truncated=truncated,
    )
    return StoredLetter(CHECK_DLQ, partition, offset, letter)


def test_letters_are_named_by_partition_and_offset_or_an_unambiguous_offset() -> None:
    letters = [stored(0, 3), stored(2, 3, source=(URL_VERIFIED, 1, 8)), stored(1, 7)]
    assert [s.letter_id for s in choose(letters, "2:3, 7,1:7")] == ["2:3", "1:7"]
    with pytest.raises(ValueError, match=r"ambiguous \(0:3, 2:3\)"):
        choose(letters, "3")
    with pytest.raises(ValueError, match="no dead letter 5:5"):
        choose(letters, "5:5")
    with pytest.raises(ValueError, match="no dead letter at offset 9"):
        choose(letters, "9")
    with pytest.raises(ValueError, match="give offsets or partition:offset"):
        choose(letters, "three")
    with pytest.raises(ValueError, match="names no dead letter"):
        choose(letters, " , ")


def test_what_a_replay_does_with_each_letter() -> None:
    fresh = stored(0, 1, source=(URL_VERIFIED, 1, 10))
    done = stored(0, 2, source=(URL_VERIFIED, 1, 11))
    cut = stored(0, 3, source=(URL_VERIFIED, 1, 12), truncated=True)
    forged = stored(0, 4, source=("hotline.intake", 0, 5))
    # A stage replay dead-letters one message twice: it is sent back once.
    twice = stored(1, 9, source=(URL_VERIFIED, 1, 10))
    also_done = stored(1, 10, source=(URL_VERIFIED, 1, 11))
    seen = {done.mark: f"{URL_VERIFIED}:1:40"}
    decisions = decide([fresh, done, cut, forged, twice, also_done], seen, [URL_VERIFIED])
    said = {d.stored.letter_id: (d.action, d.detail) for d in decisions}
    assert said["0:1"] == ("send", f"to {URL_VERIFIED}")
    assert said["0:2"] == ("replayed", f"already replayed: {URL_VERIFIED}:1:40")
    assert said["0:3"][0] == "truncated" and "7 of its 9000 bytes" in said["0:3"][1]
    assert said["0:4"][0] == "foreign" and "does not read" in said["0:4"][1]
    assert said["1:9"] == ("duplicate", "the same message as letter 0:1")
    assert said["1:10"] == ("duplicate", "the same message as letter 0:2")
    assert done.mark == f"{CHECK_DLQ}:0:2"


def test_the_newest_letters_oldest_first_and_where_a_copy_goes() -> None:
    letters = [stored(0, n, minutes=-n) for n in range(5)]
    assert [s.offset for s in newest(letters, 2)] == [1, 0]
    assert shorten("a  b\nc" + "x" * 100, 10) == "a b cxxxx…"
    # Read from a partition: back to it. Made on a schedule (offset -1): where its key leads.
    assert stored(0, 1, source=(NOTICES, 3, 9)).target_partition(4) == 3
    held = stored(0, 1, source=(NOTICES, 0, -1), key=b"HL-HELD")
    assert held.target_partition(4) == partition_for_key(b"HL-HELD", 4)


# ---------------------------------------------------------------- on the broker


async def _send(bootstrap: str, topic: str, messages: list[tuple[bytes, bytes]]) -> list[Any]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        return [await producer.send_and_wait(topic, v, key=k) for k, v in messages]
    finally:
        await producer.stop()


def letters_of(bootstrap: str, topic: str) -> list[tuple[int, int, DeadLetter]]:
    return [
        (r.partition, r.offset, DeadLetter.model_validate_json(r.value))
        for r in asyncio.run(read_topic(bootstrap, topic))
    ]


def copies(bootstrap: str, topic: str, mark: str) -> list[Any]:
    """The messages of `topic` that carry the replay mark `mark`."""
    return [
        record
        for record in asyncio.run(read_topic(bootstrap, topic))
        if (REPLAY_HEADER, mark.encode()) in list(record.headers or ())
    ]


def json_lines(done: Any) -> list[dict[str, Any]]:
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


@pytest.mark.broker
def test_a_dead_letter_is_listed_replayed_once_and_a_cut_one_refused(
    pipeline_bootstrap: str, sandbox: Sandbox, stage_worker: StageWorkerFactory, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:8].upper()
    env = {**sandbox.pipeline_env(tmp_path / "banks"), "HOTLINE_SCREENSHOTS": "false",
           "HOTLINE_DEAD_LETTER_BYTES_CAP": "64"}  # fmt: skip
    stage_worker("content-check", **env)
    short = (f"HL-DLQ-{run}".encode(), f"not a case {run}".encode())
    long = (f"HL-DLQ-{run}-L".encode(), b"{" + b"x" * 300)  # over the cap: kept cut
    sent = asyncio.run(_send(pipeline_bootstrap, URL_VERIFIED, [short, long]))
    sources = {(m.partition, m.offset) for m in sent}

    def ours() -> dict[tuple[int, int], tuple[int, int, DeadLetter]]:
        return {
            (letter.source.partition, letter.source.offset): (p, o, letter)
            for p, o, letter in letters_of(pipeline_bootstrap, CHECK_DLQ)
            if letter.source.topic == URL_VERIFIED
        }

    wait_until(lambda: sources <= set(ours()), 120, "both dead-lettered")
    (sp, so, _), (lp, lo, _) = (ours()[(m.partition, m.offset)] for m in sent)
    short_id, long_id = f"{sp}:{so}", f"{lp}:{lo}"

    listed = hotline(pipeline_bootstrap, "dlq", "list", "content-check", "--json",
                     "--limit", "100000")  # fmt: skip
    assert listed.returncode == 0, listed.stderr[-2000:]
    by_id = {row["id"]: row for row in json_lines(listed)}
    assert by_id[short_id]["error_type"] == "PermanentError"
    assert "not a case envelope" in by_id[short_id]["error"]
    assert (by_id[short_id]["attempts"], by_id[short_id]["truncated"]) == (1, False)
    assert by_id[short_id]["source_offset"] == sent[0].offset
    assert by_id[short_id]["original_size"] == len(short[1])
    assert (by_id[long_id]["truncated"], by_id[long_id]["original_size"]) == (True, 301)
    table = hotline(pipeline_bootstrap, "dlq", "list", "content-check")
    assert table.returncode == 0 and short_id in table.stdout

    preview = hotline(pipeline_bootstrap, "dlq", "replay", "content-check", "--ids", short_id)
    assert preview.returncode == 0, preview.stderr[-2000:]
    assert "preview only" in preview.stderr and "to send" in preview.stdout
    mark = f"{CHECK_DLQ}:{sp}:{so}"
    assert copies(pipeline_bootstrap, URL_VERIFIED, mark) == []

    done = hotline(pipeline_bootstrap, "dlq", "replay", "content-check", "--ids", short_id,
                   "--execute", "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    [answer] = json_lines(done)
    assert answer["action"] == "send" and answer["sent_to"].startswith(
        f"{URL_VERIFIED}:{sent[0].partition}:"
    )
    [copy] = copies(pipeline_bootstrap, URL_VERIFIED, mark)
    assert (copy.key, copy.value, copy.partition) == (short[0], short[1], sent[0].partition)
    # The stage reads the copy as it read the original (and, garbage still, dead-letters it).
    wait_until(lambda: (copy.partition, copy.offset) in ours(), 120, "the copy taken again")

    again = hotline(pipeline_bootstrap, "dlq", "replay", "content-check", "--ids", short_id,
                    "--execute")  # fmt: skip
    assert again.returncode == 1
    assert "already replayed" in " ".join(again.stderr.split())
    assert len(copies(pipeline_bootstrap, URL_VERIFIED, mark)) == 1

    cut = hotline(pipeline_bootstrap, "dlq", "replay", "content-check", "--ids", long_id,
                  "--execute")  # fmt: skip
    assert cut.returncode == 1 and "cannot be sent whole" in " ".join(cut.stderr.split())
    assert copies(pipeline_bootstrap, URL_VERIFIED, f"{CHECK_DLQ}:{lp}:{lo}") == []


@pytest.mark.broker
def test_a_notice_whose_sends_failed_is_delivered_once_when_replayed(
    pipeline_bootstrap: str, sandbox: Sandbox, stage_worker: StageWorkerFactory, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:8].upper()
    # The flaky endpoint answers 503 twice per key, then 200: with two tries per delivery,
    # the first delivery fails (a dead letter) and the replayed one succeeds.
    env = {**sandbox.pipeline_env(tmp_path / "banks"), "HOTLINE_DELIVERY_ATTEMPTS": "2",
           "HOTLINE_DELIVERY_BACKOFF": "0.05"}  # fmt: skip
    made = notice(sandbox.webhook_flaky_url, channel="webhook", case_id=f"HL-DLQD-{run}")
    key = made.idempotency_key

    def calls() -> int:
        return sum(c.headers.get("Idempotency-Key") == key for c in sandbox.webhook_calls)

    def statuses() -> list[str]:
        records = asyncio.run(read_topic(pipeline_bootstrap, DELIVERIES))
        receipts = [orjson.loads(r.value) for r in records]
        return [r["status"] for r in receipts if r["idempotency_key"] == key]

    def letter_id() -> str | None:
        for p, o, letter in letters_of(pipeline_bootstrap, DELIVERY_DLQ):
            original = orjson.loads(base64.b64decode(letter.original_b64))
            if original.get("idempotency_key") == key:
                return f"{p}:{o}"
        return None

    worker = stage_worker("delivery", **env)
    publish(pipeline_bootstrap, [(made.case_id.encode(), made.model_dump_json().encode())])
    wait_until(lambda: letter_id() is not None and statuses() == ["failed"], 60, "a dead letter")
    assert calls() == 2
    # The worker that dead-lettered the notice remembers it as done (its window of seen
    # inputs), so the replay is taken by a worker started after it: stop this one first.
    worker.stop()
    wait_until(lambda: not group_members(pipeline_bootstrap, "hotline-delivery"), 60, "no member")
    chosen = letter_id()
    assert chosen is not None

    done = hotline(pipeline_bootstrap, "dlq", "replay", "delivery", "--ids", chosen,
                   "--execute", "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    [answer] = json_lines(done)
    assert answer["sent_to"].startswith(f"{NOTICES}:")
    stage_worker("delivery", **env)
    wait_until(lambda: statuses() == ["failed", "delivered"], 60, "the replayed notice sent")
    assert calls() == 3  # two refused, then one accepted

    again = hotline(pipeline_bootstrap, "dlq", "replay", "delivery", "--ids", chosen,
                    "--execute")  # fmt: skip
    assert again.returncode == 1 and "already replayed" in " ".join(again.stderr.split())
    assert statuses() == ["failed", "delivered"] and calls() == 3
