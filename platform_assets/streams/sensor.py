"""The ``stream_health`` sensor and the stream asset checks: every tick, a reading of the broker
(end offsets, consumer lag) and of the supervisors' health becomes observations on the topic
assets and on each deployment's partition of ``stream_deployments``, and check results — a topic
gone stale, a consumer falling behind, a deployment not healthy (a silent daemon, a crash loop,
a growing lag) — so the UI shows what runs, where, how far behind, and what restarted."""

# No `from __future__ import annotations` here: Dagster resolves resource annotations when defined.
import time
from collections.abc import Iterator

import dagster as dg
import msgspec

from platform_assets.resources.platform_servers import KafkaResource
from platform_assets.resources.stream_control import PlatformStatusResource
from platform_assets.streams.stream_observations import (
    DEFAULT_THRESHOLDS,
    CheckVerdict,
    StreamMemory,
    StreamThresholds,
    TopicObservation,
    deployments_summary,
    judge_deployments,
    judge_topic,
    observe_topics,
)
from platform_assets.streams.topic_offsets import read_topics
from platform_assets.streams.topology import STREAM_DEPLOYMENTS_KEY, TOPIC_GRAPH, topic_key
from platform_streams.supervisor.health import PlatformHealth

FRESH = "fresh"
CONSUMERS_KEEP_UP = "consumers_keep_up"
DEPLOYMENTS_HEALTHY = "deployments_healthy"
SENSOR_INTERVAL_S = 30
CHECK_SAMPLE_S = 5.0  # an executed check reads the broker twice this far apart, for rates and trends

CONTINUOUS_TOPICS = [topic for topic, node in TOPIC_GRAPH.items() if node.continuous]


def check_specs() -> list[dg.AssetCheckSpec]:
    specs = [
        dg.AssetCheckSpec(FRESH, asset=topic_key(topic), description="New records keep arriving (a continuous stream).")
        for topic in CONTINUOUS_TOPICS
    ]
    specs += [
        dg.AssetCheckSpec(
            CONSUMERS_KEEP_UP, asset=topic_key(topic), description="No consumer group is far behind and falling further."
        )
        for topic in TOPIC_GRAPH
    ]
    specs.append(
        dg.AssetCheckSpec(
            DEPLOYMENTS_HEALTHY,
            asset=STREAM_DEPLOYMENTS_KEY,
            description="Every stream deployment runs all its processes healthy (none silent, crash-looping or falling behind).",
        )
    )
    return specs


def _evaluation(key: dg.AssetKey, name: str, verdict: CheckVerdict) -> dg.AssetCheckEvaluation:
    return dg.AssetCheckEvaluation(
        asset_key=key,
        check_name=name,
        passed=verdict.passed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=verdict.description,
        metadata={"verdict": verdict.description},
    )


def topic_metadata(observation: TopicObservation) -> dict[str, object]:
    return {
        "records": observation.records,
        "records_per_s": observation.records_per_s if observation.records_per_s is not None else -1.0,
        "idle_s": observation.idle_s if observation.idle_s is not None else -1.0,
        "consumer_groups": len(observation.consumer_lag),
        "consumer_lag": sum(observation.consumer_lag.values()),
        "lag_by_group": dg.MetadataValue.json(observation.consumer_lag),
        "falling_behind": ", ".join(observation.falling_behind) or "-",
    }


def deployments_observation(health: PlatformHealth) -> dg.AssetObservation:
    """Every stream deployment's health on one observation of the ``stream_deployments`` asset."""
    summary = deployments_summary(health)
    metadata: dict[str, object] = dict(summary)
    metadata["deployments"] = dg.MetadataValue.md(str(summary["deployments"]))
    return dg.AssetObservation(STREAM_DEPLOYMENTS_KEY, metadata=metadata)


def stream_events(
    observations: list[TopicObservation], health: PlatformHealth, thresholds: StreamThresholds = DEFAULT_THRESHOLDS
) -> list[dg.AssetObservation | dg.AssetCheckEvaluation]:
    """The observations and check evaluations of one reading."""
    events: list[dg.AssetObservation | dg.AssetCheckEvaluation] = []
    for observation in observations:
        if observation.topic not in TOPIC_GRAPH:
            continue
        key = topic_key(observation.topic)
        events.append(dg.AssetObservation(key, metadata=topic_metadata(observation)))
        verdicts = judge_topic(observation, thresholds)
        if verdicts.fresh is not None:
            events.append(_evaluation(key, FRESH, verdicts.fresh))
        events.append(_evaluation(key, CONSUMERS_KEEP_UP, verdicts.consumers_keep_up))
    events.append(deployments_observation(health))
    events.append(_evaluation(STREAM_DEPLOYMENTS_KEY, DEPLOYMENTS_HEALTHY, judge_deployments(health)))
    return events


@dg.sensor(
    name="stream_health",
    minimum_interval_seconds=SENSOR_INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Records each topic's throughput, consumer lag and freshness and each stream deployment's health.",
)
def stream_health(context: dg.SensorEvaluationContext, kafka: KafkaResource, status: PlatformStatusResource) -> dg.SensorResult:
    memory = msgspec.json.decode(context.cursor, type=StreamMemory) if context.cursor else StreamMemory()
    reading = read_topics(kafka.bootstrap_servers, TOPIC_GRAPH)
    observations, memory = observe_topics(memory, reading)
    events = stream_events(observations, status.health())
    return dg.SensorResult(asset_events=events, cursor=msgspec.json.encode(memory).decode())


@dg.multi_asset_check(specs=check_specs(), description="The stream checks, from two readings of the broker a few seconds apart.")
def stream_checks(kafka: KafkaResource, status: PlatformStatusResource) -> Iterator[dg.AssetCheckResult]:
    _, memory = observe_topics(StreamMemory(), read_topics(kafka.bootstrap_servers, TOPIC_GRAPH))
    time.sleep(CHECK_SAMPLE_S)  # the second reading gives rates and whether lags fall
    observations, _ = observe_topics(memory, read_topics(kafka.bootstrap_servers, TOPIC_GRAPH))
    # over one short sample, "fresh" means: records arrived during it
    events = stream_events(observations, status.health(), StreamThresholds(max_idle_s=CHECK_SAMPLE_S / 2))
    reported = set()
    for event in events:
        if isinstance(event, dg.AssetCheckEvaluation):
            reported.add((event.asset_key, event.check_name))
            yield dg.AssetCheckResult(
                asset_key=event.asset_key,
                check_name=event.check_name,
                passed=event.passed,
                severity=event.severity,
                description=event.description,
            )
    for spec in check_specs():  # a topic the broker does not have yet, or not seen move: not fresh
        if (spec.asset_key, spec.name) not in reported:
            yield dg.AssetCheckResult(
                asset_key=spec.asset_key, check_name=spec.name, passed=False, description="the topic has no records to judge yet"
            )
