"""The stream graph Dagster shows: every registry topic and every table the sinks fill, as external
assets (the daemons write them, Dagster observes them), linked by the stage that reads one to write
the next. Feedback edges (fills back into the strategies) are left out: an asset graph has no cycles.
"""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg
import msgspec

from platform_streams import topics as t

KAFKA_GROUP = "kafka_topics"
TABLE_GROUP = "postgres_tables"
DEPLOYMENTS_GROUP = "stream_deployments"
STREAM_DEPLOYMENTS_KEY = dg.AssetKey(["stream_deployments"])


class TopicNode(msgspec.Struct, frozen=True):
    """A topic in the graph: the stage that writes it, what that stage reads to do so, and whether
    records arrive continuously while the platform runs (so a topic that stops is stale)."""

    writer: str
    upstream: tuple[str, ...] = ()
    continuous: bool = False


_MARKET = (t.TRADE_TOPIC, t.BBO_TOPIC)
_NORMALISER = "the normaliser (chained into ingestion, or a normaliser daemon on md.raw)"
_DECISIONS = (t.TRADE_TOPIC, t.BBO_TOPIC, t.CANDLE_TOPIC, t.INDICATOR_TOPIC)

TOPIC_GRAPH: Mapping[str, TopicNode] = {
    t.RAW_TOPIC: TopicNode("ingestion (exchange WebSockets)", continuous=True),
    t.INSTRUMENT_TOPIC: TopicNode("ingestion (exchange instrument lists)"),
    t.TRADE_TOPIC: TopicNode(_NORMALISER, (t.RAW_TOPIC,), continuous=True),
    t.BOOK_TOPIC: TopicNode(_NORMALISER, (t.RAW_TOPIC,), continuous=True),
    t.BBO_TOPIC: TopicNode(_NORMALISER, (t.RAW_TOPIC,), continuous=True),
    t.EXCHANGE_CANDLE_TOPIC: TopicNode(_NORMALISER, (t.RAW_TOPIC,)),
    t.RESYNC_TOPIC: TopicNode(f"{_NORMALISER}: book resyncs", (t.RAW_TOPIC,)),
    t.DEADLETTER_TOPIC: TopicNode("any stage (records it could not process)", (t.RAW_TOPIC,)),
    t.CANDLE_TOPIC: TopicNode("processing", _MARKET, continuous=True),
    t.INDICATOR_TOPIC: TopicNode("processing", _MARKET),
    t.INTENT_TOPIC: TopicNode("strategy-host / trading-chain", _DECISIONS),
    t.STRATEGY_STATE_TOPIC: TopicNode("strategy-host / trading-chain", _DECISIONS),
    t.ORDER_REQUEST_TOPIC: TopicNode("risk / trading-chain", (t.INTENT_TOPIC,)),
    t.RISK_REJECTION_TOPIC: TopicNode("risk / trading-chain", (t.INTENT_TOPIC,)),
    t.ORDER_EVENT_TOPIC: TopicNode("execution", (t.ORDER_REQUEST_TOPIC,)),
    t.FILL_TOPIC: TopicNode("execution", (t.ORDER_REQUEST_TOPIC,)),
    t.POSITION_TOPIC: TopicNode("execution", (t.FILL_TOPIC,)),
    t.STRATEGY_CONTROL_TOPIC: TopicNode("operators (tradeplat strategy, promotion)"),
    t.RISK_CONTROL_TOPIC: TopicNode("operators (tradeplat kill-switch)"),
    t.DEPLOYMENT_TOPIC: TopicNode("operators (tradeplat deployment, the Dagster launcher)"),
    t.HEARTBEAT_TOPIC: TopicNode("every daemon", continuous=True),
    t.DEMO_INPUT_TOPIC: TopicNode("synthetic-trades (demo deployment)"),
    t.DEMO_OUTPUT_TOPIC: TopicNode("passthrough (demo deployment)", (t.DEMO_INPUT_TOPIC,)),
}

TABLE_SOURCES: Mapping[str, tuple[str, str]] = {
    "instruments": (t.INSTRUMENT_TOPIC, "postgres-sink"),
    "trades": (t.TRADE_TOPIC, "postgres-sink"),
    "book_top": (t.BBO_TOPIC, "postgres-sink"),
    "candles": (t.CANDLE_TOPIC, "postgres-sink"),
    "dead_letters": (t.DEADLETTER_TOPIC, "postgres-sink"),
    "orders": (t.ORDER_REQUEST_TOPIC, "execution (recorded before sending)"),
    "order_events": (t.ORDER_EVENT_TOPIC, "execution"),
    "fills": (t.FILL_TOPIC, "execution"),
    "positions": (t.POSITION_TOPIC, "execution"),
}


def topic_key(topic: str) -> dg.AssetKey:
    """The asset of a topic (asset names allow no dots: ``md.trade`` is ``kafka/md_trade``)."""
    return dg.AssetKey(["kafka", topic.replace(".", "_")])


def table_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["postgres", table])


def topic_specs() -> list[dg.AssetSpec]:
    specs = []
    for spec in t.TOPICS:
        node = TOPIC_GRAPH[spec.name]
        retention = "compacted" if spec.compacted else f"{spec.retention_ms / t.HOUR_MS:g} h retention"
        specs.append(
            dg.AssetSpec(
                topic_key(spec.name),
                description=f"Kafka topic `{spec.name}`: {spec.carries}, keyed by {spec.key}; written by {node.writer}.",
                deps=[topic_key(upstream) for upstream in node.upstream],
                group_name=KAFKA_GROUP,
                kinds={"kafka"},
                metadata={
                    "topic": spec.name,
                    "key": spec.key,
                    "carries": spec.carries,
                    "retention": retention,
                    "producer_profile": spec.profile.value,
                    "continuous": node.continuous,
                },
            )
        )
    return specs


def table_specs() -> list[dg.AssetSpec]:
    return [
        dg.AssetSpec(
            table_key(table),
            description=f"PostgreSQL table `{table}`, written by {writer} from `{topic}`.",
            deps=[topic_key(topic)],
            group_name=TABLE_GROUP,
            kinds={"postgres"},
            metadata={"table": table, "source_topic": topic},
        )
        for table, (topic, writer) in TABLE_SOURCES.items()
    ]


def deployment_spec() -> dg.AssetSpec:
    return dg.AssetSpec(
        STREAM_DEPLOYMENTS_KEY,
        description=(
            "The deployments of stream daemons the supervisors run: per deployment its state, processes, lag, "
            "restarts and who asked for it, observed by the stream_health sensor and by the launch_deployment, "
            "scale_deployment and stop_deployment jobs that change them."
        ),
        group_name=DEPLOYMENTS_GROUP,
        kinds={"python"},
    )
