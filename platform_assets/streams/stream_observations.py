"""From readings of the broker and the platform's health to what Dagster records: an observation
per topic (records written, rate, idle time, consumer lag) and per stream deployment (state,
processes, lag, restarts), and the checks that fail when a topic goes stale, a consumer falls
behind, or a deployment is not healthy. Pure: the sensor and the executable checks call it."""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from platform_assets.streams.topic_offsets import TopicReading
from platform_assets.streams.topology import TOPIC_GRAPH
from platform_streams.supervisor.health import PlatformHealth, StreamDeploymentHealth


class StreamThresholds(msgspec.Struct, frozen=True):
    max_idle_s: float = 60.0  # a continuous topic with no new record for longer is stale
    max_lag: int = 10_000  # a consumer group this far behind on a topic, and not catching up, fails


DEFAULT_THRESHOLDS = StreamThresholds()


class StreamMemory(msgspec.Struct):
    """What the sensor keeps between ticks (its cursor): the last reading, and when each topic last grew."""

    reading: TopicReading | None = None
    advanced_at: dict[str, float] = {}


class TopicObservation(msgspec.Struct, frozen=True):
    topic: str
    records: int  # written since the topic was created (the sum of end offsets)
    records_per_s: float | None  # since the previous reading
    idle_s: float | None  # since the end last moved (None: not seen move yet)
    consumer_lag: dict[str, int]  # group -> records not read
    falling_behind: list[str]  # groups over the bound and not catching up


class CheckVerdict(msgspec.Struct, frozen=True):
    passed: bool
    description: str


class TopicVerdicts(msgspec.Struct, frozen=True):
    fresh: CheckVerdict | None  # None: not a continuous topic, or not known yet
    consumers_keep_up: CheckVerdict


def observe_topics(
    memory: StreamMemory, reading: TopicReading, thresholds: StreamThresholds = DEFAULT_THRESHOLDS
) -> tuple[list[TopicObservation], StreamMemory]:
    """Per topic, what ``reading`` shows against the previous one; and the memory for the next."""
    previous = memory.reading
    advanced = dict(memory.advanced_at)
    observations = []
    for topic, end in sorted(reading.ends.items()):
        before = previous.ends.get(topic) if previous is not None else None
        rate = None
        if previous is not None and before is not None and reading.at > previous.at:
            rate = round(max(end - before, 0) / (reading.at - previous.at), 3)
        if before is None or end > before:
            advanced[topic] = reading.at if before is not None else advanced.get(topic, reading.at)
        idle = round(reading.at - advanced[topic], 3) if topic in advanced else None
        lags = reading.lags.get(topic, {})
        old_lags = previous.lags.get(topic, {}) if previous is not None else {}
        behind = sorted(
            group
            for group, lag in lags.items()
            if lag > thresholds.max_lag and (previous is None or lag >= old_lags.get(group, 0))
        )
        observations.append(TopicObservation(topic, end, rate, idle, dict(sorted(lags.items())), behind))
    return observations, StreamMemory(reading, advanced)


def judge_topic(observation: TopicObservation, thresholds: StreamThresholds = DEFAULT_THRESHOLDS) -> TopicVerdicts:
    node = TOPIC_GRAPH.get(observation.topic)
    fresh = None
    if node is not None and node.continuous and observation.idle_s is not None and observation.records_per_s is not None:
        if observation.idle_s <= thresholds.max_idle_s:
            fresh = CheckVerdict(True, f"new records {observation.idle_s:.0f}s ago ({observation.records_per_s:g}/s)")
        else:
            fresh = CheckVerdict(
                False,
                f"no new record for {observation.idle_s:.0f}s (more than {thresholds.max_idle_s:g}s): its writer is not running",
            )
    if observation.falling_behind:
        lags = ", ".join(f"{g} ({observation.consumer_lag[g]:,})" for g in observation.falling_behind)
        keep_up = CheckVerdict(False, f"consumers falling behind by more than {thresholds.max_lag:,} records: {lags}")
    else:
        total = sum(observation.consumer_lag.values())
        keep_up = CheckVerdict(True, f"{len(observation.consumer_lag)} consumer group(s), {total:,} records behind in all")
    return TopicVerdicts(fresh, keep_up)


def stream_deployments(health: PlatformHealth) -> Mapping[str, tuple[str, StreamDeploymentHealth]]:
    """Every stream deployment the running supervisors report: its name → (host, health)."""
    found: dict[str, tuple[str, StreamDeploymentHealth]] = {}
    for supervisor in health.deployments:
        if not supervisor.supervisor_running:
            continue
        for deployment in supervisor.stream_deployments:
            if deployment.state != "moved":
                found[deployment.name] = (supervisor.host, deployment)
    return found


def deployment_metadata(host: str, deployment: StreamDeploymentHealth) -> dict[str, object]:
    """One deployment's health, as plain values (a launch job's output)."""
    return {
        "state": deployment.state,
        "healthy": deployment.healthy,
        "problem": deployment.problem or "-",
        "host": host,
        "processes": f"{deployment.replicas_running}/{deployment.replicas}",
        "lag": deployment.lag if deployment.lag is not None else -1,
        "lag_growing": deployment.lag_growing,
        "restarts": deployment.restarts,
        "messages_in": deployment.messages_in,
        "messages_out": deployment.messages_out,
        "daemons": ", ".join(deployment.daemons) or "-",
        "source": deployment.source,
        "requested_by": deployment.operator or "-",
        "revision": deployment.revision,
        "refused": deployment.refused or "-",
    }


def deployments_summary(health: PlatformHealth) -> dict[str, str | int]:
    """Every deployment on one observation of ``stream_deployments``: a table, and one line each
    (``<name>``: state, processes, lag, restarts) that the UI lists under the asset's metadata."""
    deployments = stream_deployments(health)
    rows = [
        "| deployment | state | processes | lag | restarts | host | requested by | problem |",
        "|---|---|---|---|---|---|---|---|",
    ]
    summary: dict[str, str | int] = {}
    for name, (host, d) in sorted(deployments.items()):
        lag = "-" if d.lag is None else f"{d.lag:,}{' growing' if d.lag_growing else ''}"
        requested = d.operator or d.source
        problem = (d.problem or d.refused or "-").replace("|", "/")
        rows.append(
            f"| {name} | {d.state} | {d.replicas_running}/{d.replicas} | {lag} | {d.restarts} | {host} | {requested} | {problem} |"
        )
        summary[name] = f"{d.state}, {d.replicas_running}/{d.replicas} processes, lag {lag}, {d.restarts} restarts"
    return {
        "deployments": "\n".join(rows),
        "running": sum(1 for _, d in deployments.values() if d.state == "running"),
        "unhealthy": ", ".join(name for name, (_, d) in sorted(deployments.items()) if not d.healthy) or "-",
        **summary,
    }


def judge_deployments(health: PlatformHealth) -> CheckVerdict:
    """Healthy when every running supervisor reports every deployment it should run healthy."""
    deployments = stream_deployments(health)
    if not health.running:
        return CheckVerdict(False, "no supervisor is running (start the platform with `tradeplat up`)")
    unhealthy = [f"{name}: {d.state}: {d.problem}" for name, (_, d) in sorted(deployments.items()) if not d.healthy]
    if unhealthy:
        return CheckVerdict(False, "; ".join(unhealthy))
    running = [name for name, (_, d) in sorted(deployments.items()) if d.state == "running"]
    return CheckVerdict(True, f"{len(running)} deployment(s) running healthy: {', '.join(running) or '-'}")
