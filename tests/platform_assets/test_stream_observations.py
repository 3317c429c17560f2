"""The stream graph and what the sensor concludes from readings of the broker and the platform's
health (pure)."""

from __future__ import annotations

import dagster as dg

from platform_assets.streams.stream_observations import (
    StreamMemory,
    StreamThresholds,
    judge_deployments,
    judge_topic,
    observe_topics,
)
from platform_assets.streams.topic_offsets import TopicReading
from platform_assets.streams.topology import TABLE_SOURCES, TOPIC_GRAPH, table_specs, topic_key, topic_specs
from platform_streams.supervisor.health import DeploymentHealth, PlatformHealth, StreamDeploymentHealth
from platform_streams.topics import TOPICS


def test_every_registry_topic_is_in_the_graph_and_the_graph_has_no_cycle() -> None:
    assert set(TOPIC_GRAPH) == {spec.name for spec in TOPICS}
    assert all(upstream in TOPIC_GRAPH for node in TOPIC_GRAPH.values() for upstream in node.upstream)
    assert all(topic in TOPIC_GRAPH for topic, _ in TABLE_SOURCES.values())
    # Dagster refuses a cyclic graph: building the definitions proves there is none
    dg.Definitions(assets=[*topic_specs(), *table_specs()]).resolve_asset_graph()
    assert topic_key("md.trade") == dg.AssetKey(["kafka", "md_trade"])


def reading(at: float, ends: dict[str, int], lags: dict[str, dict[str, int]] | None = None) -> TopicReading:
    return TopicReading(at, ends, lags or {})


def test_rates_idle_time_and_consumers_falling_behind() -> None:
    thresholds = StreamThresholds(max_idle_s=60, max_lag=1_000)
    first, memory = observe_topics(StreamMemory(), reading(100.0, {"md.trade": 500, "md.raw": 900}), thresholds)
    assert [(o.topic, o.records, o.records_per_s) for o in first] == [("md.raw", 900, None), ("md.trade", 500, None)]
    assert judge_topic(first[1], thresholds).fresh is None  # no rate yet: nothing to judge
    second, memory = observe_topics(
        memory, reading(110.0, {"md.trade": 1_500, "md.raw": 900}, {"md.trade": {"sink": 2_000, "chain": 10}}), thresholds
    )
    raw, trade = second
    assert (trade.records_per_s, trade.idle_s) == (100.0, 0.0)
    assert (raw.records_per_s, raw.idle_s) == (0.0, 10.0)  # not moved since first seen: at least 10 s
    assert trade.falling_behind == ["sink"] and trade.consumer_lag == {"chain": 10, "sink": 2_000}
    verdict = judge_topic(trade, thresholds).consumers_keep_up
    assert not verdict.passed and "sink (2,000)" in verdict.description
    # the sink catches up (its lag falls): not failing, though still over the bound
    third, memory = observe_topics(memory, reading(180.0, {"md.trade": 1_600, "md.raw": 900}, {"md.trade": {"sink": 1_500}}))
    raw, trade = third
    assert trade.falling_behind == [] and judge_topic(trade, thresholds).consumers_keep_up.passed
    stale = judge_topic(raw, thresholds).fresh
    assert stale is not None and not stale.passed and "no new record for 80s" in stale.description
    fresh = judge_topic(trade, thresholds).fresh
    assert fresh is not None and fresh.passed
    # a topic that is not continuous (orders) is never stale
    quiet, _ = observe_topics(memory, reading(500.0, {"exec.order_request": 3}))
    assert judge_topic(quiet[0], thresholds).fresh is None


def stream(name: str, state: str, problem: str = "") -> StreamDeploymentHealth:
    return StreamDeploymentHealth(
        name, state, not problem, problem, "spec file", 0, "", None, "", 0, 1, 1 if not problem else 0, 0, False, 0, 0, 0, "", []
    )


def platform(*streams: StreamDeploymentHealth, running: bool = True) -> PlatformHealth:
    supervisor = DeploymentHealth("md+trading", 1, running, 0.1, True, [], [], "local", list(streams))
    return PlatformHealth("tradeplat.status/1", 0.0, True, running, [], [supervisor])


def test_deployments_are_healthy_only_when_every_one_is() -> None:
    assert judge_deployments(platform(stream("md", "running"), stream("old", "stopped"))).passed
    verdict = judge_deployments(
        platform(stream("md", "running"), stream("x", "degraded", "copy[0]: silent: last heartbeat 20s ago"))
    )
    assert not verdict.passed and "x: degraded: copy[0]: silent" in verdict.description
    assert not judge_deployments(platform(running=False)).passed
