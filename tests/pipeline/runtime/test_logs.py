"""The Kafka client's noise: start-up chatter to debug, repeats let through once in a while."""

from __future__ import annotations

import logging

from pipeline.runtime.logs import ClientNoise


def record(message: str, name: str = "aiokafka.consumer.group_coordinator") -> logging.LogRecord:
    return logging.LogRecord(name, logging.ERROR, __file__, 1, message, None, None)


def test_a_broker_outage_does_not_flood_the_log() -> None:
    noise = ClientNoise(interval=60)
    passed = [noise.filter(record("Unable connect to node with id %s")) for _ in range(2000)]
    assert passed.count(True) == 1  # the first line, then one per interval with a count


def test_held_back_lines_are_counted_when_the_next_one_passes() -> None:
    noise = ClientNoise(interval=0)
    noise.interval = 60
    first = record("Unable connect to node")
    assert noise.filter(first)
    for _ in range(5):
        noise.filter(record("Unable connect to node"))
    noise.interval = 0
    later = record("Unable connect to node")
    assert noise.filter(later) and "5 more like this" in later.getMessage()


def test_start_up_chatter_goes_to_debug() -> None:
    logging.getLogger().setLevel(logging.WARNING)
    chatter = record("Topic hotline.received not found in cluster metadata")
    assert not ClientNoise().filter(chatter)
    assert chatter.levelno == logging.DEBUG


def test_our_own_lines_are_never_held_back() -> None:
    noise = ClientNoise(interval=60)
    assert all(noise.filter(record("dead-lettered event", name="hotline.runner")) for _ in range(5))
