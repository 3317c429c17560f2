"""The one home of Kafka client settings, tuned per role and overridable by configuration.

Consumer profiles (a daemon kind declares its own):
- ``latency`` (the default: execution, control, pass-through stages — low-rate inputs where
  every event matters at once): the broker answers a fetch as soon as it has a byte.
- ``tick`` (latency-critical readers of busy streams: strategy hosts and trading chains on
  market data, paper execution): a fetch waits at most 1 ms for 1,500 bytes (about ten
  events), so at 5,000 events/s the broker answers
  about a fifth of the fetches ``latency`` makes it answer; on a 2-core machine those requests
  queue behind each other (docs/architecture.md, "What one hop costs"). On a quiet stream it
  costs up to 1 ms per hop, so low-rate trading topics keep ``latency``.
- ``stream`` (normalisers): a fetch waits up to 5 ms for 64 KiB, so a busy stream
  arrives in a few large fetches instead of one per produce request.
- ``batch`` (sinks, the raw archive): a fetch waits up to 250 ms for 1 MiB.
All share manual commits (the runtime commits only after outputs are acknowledged),
earliest reset and cooperative rebalancing.

Producer profiles (the topic registry assigns one to every topic):
- ``latency`` (trading path: intents, orders, fills, control): ``linger.ms`` 0.
- ``stream`` (market data: raw frames, trades, books, top of book): ``linger.ms`` 5.
- ``bulk`` (dead letters): 20 ms linger, large batches, lz4 compression.
All are idempotent with ``acks=all``.

Why ``stream`` lingers: librdkafka sends one produce request per partition, and a
broker's cost is mostly per request (thread hand-offs and system calls: about 100 us
of broker CPU each on a 2-core VM). A market-data producer writes thousands of events
a second across every partition of three topics; sent at once, nearly every event
is its own request. Five milliseconds gathers them into a few hundred requests a second.

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
    STREAM = "stream"
    BULK = "bulk"


class ConsumerProfile(enum.Enum):
    """How a daemon's consumer fetches; each daemon kind declares one."""

    LATENCY = "latency"
    TICK = "tick"
    STREAM = "stream"
    BATCH = "batch"


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

CONSUMER_PROFILES: dict[ConsumerProfile, dict[str, Any]] = {
    ConsumerProfile.LATENCY: {},
    ConsumerProfile.TICK: {"fetch.wait.max.ms": 1, "fetch.min.bytes": 1_500},
    ConsumerProfile.STREAM: {"fetch.wait.max.ms": 5, "fetch.min.bytes": 65_536},
    ConsumerProfile.BATCH: {"fetch.wait.max.ms": 250, "fetch.min.bytes": 1_048_576},
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
    ProducerProfile.STREAM: {
        **_PRODUCER_COMMON,
        "linger.ms": 5,
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
    stream_producer: dict[str, Any] = {}
    bulk_producer: dict[str, Any] = {}
    topic_profiles: dict[str, ProducerProfile] = {}
    """Topics produced with another profile than the registry's: ``md.bbo: latency`` where a process
    chained ahead of a trading chain publishes what the chain decides on."""

    def producer(self, profile: ProducerProfile) -> dict[str, Any]:
        """The overrides of one producer profile."""
        if profile is ProducerProfile.LATENCY:
            return self.latency_producer
        return self.stream_producer if profile is ProducerProfile.STREAM else self.bulk_producer


def consumer_settings(
    bootstrap_servers: str,
    group_id: str,
    overrides: Mapping[str, Any] | None = None,
    profile: ConsumerProfile = ConsumerProfile.LATENCY,
    **extra: Any,
) -> dict[str, Any]:
    """Settings for a consumer in ``group_id``."""
    return {
        **CONSUMER_DEFAULTS,
        **CONSUMER_PROFILES[profile],
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
    chosen = overrides.producer(profile) if overrides is not None else {}
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
