"""Putting records on the topics: the gateway's one producer, started with the app.

A route answers only once the broker has the record (acks from all in-sync replicas), so a 202
means the report is on `hotline.intake`, not in a buffer of this process.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

# Seconds a route waits for the broker before answering 503: longer than a leader election,
# shorter than a person waiting at a form.
PUBLISH_TIMEOUT = 15.0


class Unavailable(RuntimeError):
    """The broker did not take the record: the caller may try again."""


class Publisher(Protocol):
    async def publish(self, topic: str, value: bytes, key: bytes) -> None: ...


class KafkaPublisher:
    def __init__(self, producer: AIOKafkaProducer, timeout: float = PUBLISH_TIMEOUT) -> None:
        self._producer = producer
        self._timeout = timeout

    async def publish(self, topic: str, value: bytes, key: bytes) -> None:
        try:
            await asyncio.wait_for(
                self._producer.send_and_wait(topic, value, key=key), self._timeout
            )
        except (KafkaError, TimeoutError) as error:
            raise Unavailable(f"{topic}: {type(error).__name__}: {error}") from error
