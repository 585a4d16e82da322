"""Broker profiles: every broker-specific client setting, in one place.

Apache Kafka takes the clients' defaults with modest batching. Tansu (the no-JVM fallback)
answers ListOffsets "latest" wrongly for multi-record batches, which breaks Faust table
recovery and lag, so it gets single-record batches; its group join waits half the session
timeout, so that is kept short (see shared/FACTS.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipeline.config import BrokerKind


@dataclass(frozen=True)
class BrokerProfile:
    name: BrokerKind
    producer_linger_ms: int
    producer_max_batch_size: int  # bytes; 1 forces one record per batch
    session_timeout: float
    heartbeat_interval: float
    # Tansu refuses InitProducerId (idempotent producers) with an unknown error.
    idempotent_producer: bool = True

    def faust_settings(self) -> dict[str, Any]:
        return {
            "producer_linger_ms": self.producer_linger_ms,
            "producer_max_batch_size": self.producer_max_batch_size,
            "broker_session_timeout": self.session_timeout,
            "broker_heartbeat_interval": self.heartbeat_interval,
        }

    def producer_settings(self) -> dict[str, Any]:
        """Keyword arguments for `aiokafka.AIOKafkaProducer`."""
        return {
            "linger_ms": self.producer_linger_ms,
            "max_batch_size": self.producer_max_batch_size,
        }

    def consumer_settings(self) -> dict[str, Any]:
        """Keyword arguments for `aiokafka.AIOKafkaConsumer` in a group."""
        return {
            "session_timeout_ms": int(self.session_timeout * 1000),
            "heartbeat_interval_ms": int(self.heartbeat_interval * 1000),
        }


PROFILES: dict[BrokerKind, BrokerProfile] = {
    "kafka": BrokerProfile(
        name="kafka",
        producer_linger_ms=5,
        producer_max_batch_size=256 * 1024,
        session_timeout=10.0,
        heartbeat_interval=1.0,
    ),
    "tansu": BrokerProfile(
        name="tansu",
        producer_linger_ms=0,
        producer_max_batch_size=1,
        session_timeout=6.0,
        heartbeat_interval=1.0,
        idempotent_producer=False,
    ),
}


def profile_for(kind: BrokerKind) -> BrokerProfile:
    return PROFILES[kind]
