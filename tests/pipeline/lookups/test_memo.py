"""Lookups made once: shared answers, their age, single flight, failures kept by policy."""

from __future__ import annotations

import asyncio

from pipeline.lookups.memo import Answer, LookupMemo, retrying
from pipeline.runtime.shared import MemorySharedTable


class Server:
    def __init__(self, *answers: Answer, delay: float = 0.0) -> None:
        self.answers = list(answers)
        self.asked = 0
        self.delay = delay

    async def __call__(self) -> Answer:
        self.asked += 1
        await asyncio.sleep(self.delay)
        return self.answers[min(self.asked, len(self.answers)) - 1]


OK = Answer({"value": 1}, "test")
FAILED = Answer(None, "test", error="down")


def test_concurrent_asks_share_the_one_lookup_in_flight() -> None:
    server = Server(OK, delay=0.05)
    memo = LookupMemo(MemorySharedTable(), ttl=60, failure_ttl=5)

    async def go() -> list[bool]:
        found = await asyncio.gather(*(memo.get("dns", "a.kz", server) for _ in range(50)))
        return [r.lookup.cached for r in found]

    cached = asyncio.run(go())
    assert server.asked == 1 and cached.count(False) == 1


def test_an_answer_another_worker_put_is_used_with_its_age() -> None:
    table = MemorySharedTable()
    asyncio.run(LookupMemo(table, 60, 5).get("asn", "192.0.2.1", Server(OK)))
    table.data["asn:192.0.2.1"]["at"] -= 30  # put half a minute ago
    server = Server(OK)
    again = asyncio.run(LookupMemo(table, 60, 5).get("asn", "192.0.2.1", server))
    assert server.asked == 0 and again.lookup.cached and 29 <= again.lookup.age_s <= 31


def test_answers_expire_and_failures_expire_sooner() -> None:
    table = MemorySharedTable()
    memo = LookupMemo(table, ttl=60, failure_ttl=5)
    server = Server(FAILED, OK)
    asyncio.run(memo.get("rdap_ip", "net", server))
    asyncio.run(memo.get("rdap_ip", "net", server))
    assert server.asked == 1  # the failure is kept for a while
    table.data["rdap_ip:net"]["at"] -= 6
    found = asyncio.run(memo.get("rdap_ip", "net", server))
    assert server.asked == 2 and found.data == {"value": 1}


def test_a_rate_limited_answer_is_kept_as_long_as_the_server_asked() -> None:
    table = MemorySharedTable()
    limited = Answer(None, "test", error="429", retry_after=120)
    asyncio.run(LookupMemo(table, 60, 5).get("rdap_domain", "x.com", Server(limited)))
    assert table.data["rdap_domain:x.com"]["keep"] == 120


def test_retrying_stops_at_the_first_answer_and_never_hammers_a_rate_limit() -> None:
    flaky = Server(FAILED, OK)
    assert asyncio.run(retrying(flaky, attempts=3, backoff=0)).attempts == 2
    limited = Server(Answer(None, "t", error="429", retry_after=60), OK)
    assert asyncio.run(retrying(limited, attempts=3, backoff=0)).attempts == 1
    down = Server(FAILED)
    answer = asyncio.run(retrying(down, attempts=3, backoff=0))
    assert (answer.attempts, answer.error, down.asked) == (3, "down", 3)


def test_an_entry_of_another_shape_is_looked_up_again() -> None:
    table = MemorySharedTable()
    table.data["dns:a.kz"] = {"something": "else"}
    server = Server(OK)
    asyncio.run(LookupMemo(table, 60, 5).get("dns", "a.kz", server))
    assert server.asked == 1


def test_a_case_cancelled_mid_lookup_does_not_cancel_the_cases_waiting_on_it() -> None:
    server = Server(OK, delay=0.05)
    memo = LookupMemo(MemorySharedTable(), ttl=60, failure_ttl=5)

    async def go() -> list[object]:
        first = asyncio.create_task(memo.get("dns", "a.kz", server))
        await asyncio.sleep(0.01)
        waiting = [asyncio.create_task(memo.get("dns", "a.kz", server)) for _ in range(3)]
        await asyncio.sleep(0.01)
        first.cancel()  # its partition was handed over
        return await asyncio.gather(*waiting, return_exceptions=True)

    results = asyncio.run(go())
    assert all(not isinstance(r, BaseException) for r in results)
    assert server.asked == 2  # the abandoned lookup, and one asked again for the rest
