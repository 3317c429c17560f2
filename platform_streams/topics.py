"""The topic registry: one declarative table of every Kafka topic the platform uses.

Each row says what the topic carries, how it is keyed, how long it is kept, and
which producer profile writes it (``latency`` for the trading path, ``bulk`` for
high-volume or archival traffic). :func:`ensure_topics` creates them idempotently.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

import msgspec
from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from platform_streams.kafka_clients import ProducerProfile, admin_settings
from platform_streams.schemas import events

log = logging.getLogger(__name__)

DEFAULT_PARTITIONS = 24
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS


class TopicSpec(msgspec.Struct, frozen=True):
    """One topic: its name, key, retention (or compaction), event type and producer profile."""

    name: str
    key: str
    carries: str
    profile: ProducerProfile
    retention_ms: int = 7 * DAY_MS
    compacted: bool = False
    partitions: int | None = None  # None: the registry-wide default

    def configs(self) -> dict[str, str]:
        if self.compacted:
            return {"cleanup.policy": "compact", "min.cleanable.dirty.ratio": "0.1", "segment.ms": str(HOUR_MS)}
        return {"cleanup.policy": "delete", "retention.ms": str(self.retention_ms)}


_L, _S, _B = ProducerProfile.LATENCY, ProducerProfile.STREAM, ProducerProfile.BULK

TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec("md.raw", "connection id", "raw exchange frames (bytes as received)", _S, retention_ms=2 * DAY_MS),
    TopicSpec("md.trade", "exchange:symbol", events.Trade.__name__, _S),
    TopicSpec(
        "md.book",
        "exchange:symbol",
        f"{events.BookSnapshot.__name__} | {events.BookDelta.__name__} | {events.BookResync.__name__}",
        _S,
    ),
    TopicSpec("md.bbo", "exchange:symbol", events.BestBidOffer.__name__, _S),
    TopicSpec("md.candle.1m", "exchange:symbol", events.Candle.__name__, _S, retention_ms=30 * DAY_MS),
    TopicSpec("md.indicator", "exchange:symbol", events.IndicatorValue.__name__, _S),
    TopicSpec("md.deadletter", "source key", events.DeadLetter.__name__, _B, retention_ms=30 * DAY_MS),
    TopicSpec("strat.intent", "exchange:symbol", events.StrategyIntent.__name__, _L),
    TopicSpec("exec.order_request", "account", events.OrderRequest.__name__, _L, retention_ms=30 * DAY_MS),
    TopicSpec("exec.order_event", "account", events.OrderEvent.__name__, _L, retention_ms=30 * DAY_MS),
    TopicSpec("exec.fill", "account", events.Fill.__name__, _L, retention_ms=90 * DAY_MS),
    TopicSpec("state.position", "account:exchange:symbol", events.Position.__name__, _L, compacted=True),
    TopicSpec("ref.instrument", "exchange:symbol", events.Instrument.__name__, _L, compacted=True),
    TopicSpec("ctl.resync", "connection id", events.SnapshotRequest.__name__, _L, retention_ms=HOUR_MS),
    TopicSpec("ctl.deployment", "deployment name", "deployment spec (desired state)", _L, compacted=True, partitions=1),
    TopicSpec("ctl.heartbeat", "daemon instance", events.Heartbeat.__name__, _L, retention_ms=DAY_MS, partitions=1),
    TopicSpec("demo.input", "exchange:symbol", f"{events.Trade.__name__} (demo deployment)", _L, retention_ms=HOUR_MS),
    TopicSpec("demo.output", "exchange:symbol", f"{events.Trade.__name__} (demo deployment)", _L, retention_ms=HOUR_MS),
)

TOPICS_BY_NAME: Mapping[str, TopicSpec] = {spec.name: spec for spec in TOPICS}
DEADLETTER_TOPIC = "md.deadletter"
HEARTBEAT_TOPIC = "ctl.heartbeat"


def profile_of(topic: str) -> ProducerProfile:
    """The producer profile of a registered topic; unregistered topics get the latency profile."""
    spec = TOPICS_BY_NAME.get(topic)
    return spec.profile if spec else ProducerProfile.LATENCY


class TopicSetupError(RuntimeError):
    """A topic could not be created or exists with an incompatible layout."""


def ensure_topics(
    bootstrap_servers: str,
    *,
    default_partitions: int = DEFAULT_PARTITIONS,
    specs: Iterable[TopicSpec] = TOPICS,
    timeout_s: float = 30.0,
    replication_factor: int = -1,
) -> list[str]:
    """Create every missing topic; leave existing ones alone. Returns the names created.

    ``replication_factor=-1`` lets the broker apply its ``default.replication.factor``,
    so the same call is right for a single embedded broker and a 3-broker cluster.
    """
    admin = AdminClient(admin_settings(bootstrap_servers))
    existing = admin.list_topics(timeout=timeout_s).topics
    missing = [
        NewTopic(
            spec.name,
            num_partitions=spec.partitions or default_partitions,
            replication_factor=replication_factor,
            config=spec.configs(),
        )
        for spec in specs
        if spec.name not in existing
    ]
    for spec in specs:
        if spec.name in existing:
            wanted = spec.partitions or default_partitions
            have = len(existing[spec.name].partitions)
            if have != wanted:
                log.warning("topic exists with other partition count", extra={"topic": spec.name, "have": have, "wanted": wanted})
    if not missing:
        return []
    created: list[str] = []
    for name, future in admin.create_topics(missing, operation_timeout=timeout_s, request_timeout=timeout_s).items():
        try:
            future.result()
            created.append(name)
        except KafkaException as exc:
            if exc.args[0].code() == KafkaError.TOPIC_ALREADY_EXISTS:
                continue  # another process created it between our list and create
            raise TopicSetupError(f"cannot create topic {name}: {exc}") from exc
    return created
