"""The topic registry: one declarative table of every Kafka topic the platform uses, and the
one home of their names (code names a topic by these constants, never by a string literal).

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


RAW_TOPIC = "md.raw"
TRADE_TOPIC = "md.trade"
BOOK_TOPIC = "md.book"
BBO_TOPIC = "md.bbo"
CANDLE_TOPIC = "md.candle"
EXCHANGE_CANDLE_TOPIC = "md.candle.exchange"
INDICATOR_TOPIC = "md.indicator"
DEADLETTER_TOPIC = "md.deadletter"
INTENT_TOPIC = "strat.intent"
STRATEGY_STATE_TOPIC = "strat.state"
RISK_REJECTION_TOPIC = "risk.rejection"
RISK_CONTROL_TOPIC = "ctl.risk"
STRATEGY_CONTROL_TOPIC = "ctl.strategy"
ORDER_REQUEST_TOPIC = "exec.order_request"
ORDER_EVENT_TOPIC = "exec.order_event"
FILL_TOPIC = "exec.fill"
POSITION_TOPIC = "state.position"
INSTRUMENT_TOPIC = "ref.instrument"
RESYNC_TOPIC = "ctl.resync"
DEPLOYMENT_TOPIC = "ctl.deployment"
HEARTBEAT_TOPIC = "ctl.heartbeat"
DEMO_INPUT_TOPIC = "demo.input"
DEMO_OUTPUT_TOPIC = "demo.output"

_L, _S, _B = ProducerProfile.LATENCY, ProducerProfile.STREAM, ProducerProfile.BULK

TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(RAW_TOPIC, "connection id", "raw exchange frames (bytes as received)", _S, retention_ms=2 * DAY_MS),
    TopicSpec(TRADE_TOPIC, "exchange:symbol", events.Trade.__name__, _S),
    TopicSpec(
        BOOK_TOPIC,
        "exchange:symbol",
        f"{events.BookSnapshot.__name__} | {events.BookDelta.__name__} | {events.BookResync.__name__}",
        _S,
    ),
    TopicSpec(BBO_TOPIC, "exchange:symbol", events.BestBidOffer.__name__, _S),
    TopicSpec(
        CANDLE_TOPIC, "exchange:symbol", f"{events.Candle.__name__} (the platform's, from trades)", _S, retention_ms=30 * DAY_MS
    ),
    TopicSpec(EXCHANGE_CANDLE_TOPIC, "exchange:symbol", f"{events.Candle.__name__} (exchanges' own klines)", _S),
    TopicSpec(INDICATOR_TOPIC, "exchange:symbol", events.IndicatorValue.__name__, _S),
    TopicSpec(DEADLETTER_TOPIC, "source key", events.DeadLetter.__name__, _B, retention_ms=30 * DAY_MS),
    TopicSpec(INTENT_TOPIC, "account", events.StrategyIntent.__name__, _L),
    TopicSpec(STRATEGY_STATE_TOPIC, "deployment", events.StrategySnapshot.__name__, _L, compacted=True),
    TopicSpec(RISK_REJECTION_TOPIC, "account", events.RiskRejection.__name__, _L, retention_ms=30 * DAY_MS),
    TopicSpec(STRATEGY_CONTROL_TOPIC, "deployment", events.StrategyDeploymentControl.__name__, _L, compacted=True, partitions=1),
    TopicSpec(RISK_CONTROL_TOPIC, "scope", events.RiskControl.__name__, _L, compacted=True, partitions=1),
    TopicSpec(ORDER_REQUEST_TOPIC, "account", events.OrderRequest.__name__, _L, retention_ms=30 * DAY_MS),
    TopicSpec(ORDER_EVENT_TOPIC, "account", events.OrderEvent.__name__, _L, retention_ms=30 * DAY_MS),
    TopicSpec(FILL_TOPIC, "account", events.Fill.__name__, _L, retention_ms=90 * DAY_MS),
    TopicSpec(POSITION_TOPIC, "account:exchange:symbol", events.Position.__name__, _L, compacted=True),
    TopicSpec(INSTRUMENT_TOPIC, "exchange:symbol", events.Instrument.__name__, _L, compacted=True),
    TopicSpec(RESYNC_TOPIC, "connection id", events.SnapshotRequest.__name__, _L, retention_ms=HOUR_MS),
    TopicSpec(DEPLOYMENT_TOPIC, "deployment name", events.StreamDeploymentControl.__name__, _L, compacted=True, partitions=1),
    TopicSpec(HEARTBEAT_TOPIC, "daemon instance", events.Heartbeat.__name__, _L, retention_ms=DAY_MS, partitions=1),
    TopicSpec(DEMO_INPUT_TOPIC, "exchange:symbol", f"{events.Trade.__name__} (demo deployment)", _L, retention_ms=HOUR_MS),
    TopicSpec(DEMO_OUTPUT_TOPIC, "exchange:symbol", f"{events.Trade.__name__} (demo deployment)", _L, retention_ms=HOUR_MS),
)

TOPICS_BY_NAME: Mapping[str, TopicSpec] = {spec.name: spec for spec in TOPICS}


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
