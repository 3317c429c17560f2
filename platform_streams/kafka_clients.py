"""The one home of Kafka client settings, tuned per role and overridable by configuration.

Roles:
- ``consumer``: manual commits (the runtime commits only after outputs are
  acknowledged), earliest reset, cooperative rebalancing, short fetch wait.
- ``latency`` producer (trading path: trades, books, intents, orders): idempotent,
  ``acks=all``, ``linger.ms`` 0 (send at once), no compression.
- ``bulk`` producer (raw frames, dead letters): idempotent, 20 ms linger, large
  batches, lz4 compression.

Idempotent producers with unbounded retries keep per-partition order and never
write a message twice because of a retry; duplicates from a daemon restart are
dropped downstream by event id.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping
from typing import Any

import msgspec


class ProducerProfile(enum.Enum):
    """How a topic's producer is tuned; the topic registry assigns one to every topic."""

    LATENCY = "latency"
    BULK = "bulk"


CONSUMER_DEFAULTS: dict[str, Any] = {
    "enable.auto.commit": False,
    "enable.auto.offset.store": False,
    "auto.offset.reset": "earliest",
    "partition.assignment.strategy": "cooperative-sticky",
    "session.timeout.ms": 10_000,
    "heartbeat.interval.ms": 1_000,
    "max.poll.interval.ms": 300_000,
    "fetch.wait.max.ms": 100,
    "fetch.min.bytes": 1,
    "queued.max.messages.kbytes": 65_536,
    "enable.partition.eof": False,
    "socket.nagle.disable": True,
    "statistics.interval.ms": 0,
}

_PRODUCER_COMMON: dict[str, Any] = {
    "enable.idempotence": True,
    "acks": "all",
    "message.timeout.ms": 300_000,
    "socket.nagle.disable": True,
    "queue.buffering.max.messages": 1_000_000,
    "queue.buffering.max.kbytes": 1_048_576,
}

PRODUCER_DEFAULTS: dict[ProducerProfile, dict[str, Any]] = {
    ProducerProfile.LATENCY: {
        **_PRODUCER_COMMON,
        "linger.ms": 0,  # send at once; requests still batch while one is in flight
        "batch.num.messages": 10_000,
        "compression.type": "none",
    },
    ProducerProfile.BULK: {
        **_PRODUCER_COMMON,
        "linger.ms": 20,
        "batch.size": 1_048_576,
        "batch.num.messages": 100_000,
        "compression.type": "lz4",
    },
}


KAFKA_CLIENT_LOGGER = logging.getLogger("librdkafka")
"""librdkafka's own log lines go through Python logging (JSON), not raw to stderr."""


class KafkaOverrides(msgspec.Struct, forbid_unknown_fields=True):
    """librdkafka properties that replace the defaults of one role (from configuration)."""

    consumer: dict[str, Any] = {}
    latency_producer: dict[str, Any] = {}
    bulk_producer: dict[str, Any] = {}


def consumer_settings(
    bootstrap_servers: str, group_id: str, overrides: Mapping[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    """Settings for a consumer in ``group_id``."""
    return {
        **CONSUMER_DEFAULTS,
        "bootstrap.servers": bootstrap_servers,
        "group.id": group_id,
        "logger": KAFKA_CLIENT_LOGGER,
        **extra,
        **(overrides or {}),
    }


def producer_settings(
    bootstrap_servers: str, profile: ProducerProfile, overrides: KafkaOverrides | None = None, **extra: Any
) -> dict[str, Any]:
    """Settings for a producer of ``profile``."""
    chosen = {}
    if overrides is not None:
        chosen = overrides.latency_producer if profile is ProducerProfile.LATENCY else overrides.bulk_producer
    return {
        **PRODUCER_DEFAULTS[profile],
        "bootstrap.servers": bootstrap_servers,
        "logger": KAFKA_CLIENT_LOGGER,
        **extra,
        **chosen,
    }


def admin_settings(bootstrap_servers: str) -> dict[str, Any]:
    """Settings for an AdminClient (topic set-up, watermarks, health checks)."""
    return {"bootstrap.servers": bootstrap_servers, "logger": KAFKA_CLIENT_LOGGER}
