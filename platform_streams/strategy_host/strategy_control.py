"""Strategy deployments desired at run time, as records of the compacted ``ctl.strategy`` topic:
read each deployment's latest, deploy (start or hot-deploy: the next fencing epoch), stop, and
wait until a host confirms it runs an epoch (its ``strat.state`` snapshot carries the epoch).
The ``tradeplat strategy`` commands and the control plane's promotion pipeline both go through here."""

from __future__ import annotations

import time

import msgspec
from confluent_kafka import Producer

from platform_streams.kafka_clients import ProducerProfile, producer_settings
from platform_streams.schemas import (
    EventDecodeError,
    StrategyDeploymentControl,
    StrategySnapshot,
    TypedDecoder,
    encode,
)
from platform_streams.settings import ConfigError
from platform_streams.strategy_host.deployment_control import control_record
from platform_streams.strategy_host.strategy_deployment import StrategyDeploymentSpec
from platform_streams.topic_reading import latest_values, read_to_end
from platform_streams.topics import STRATEGY_CONTROL_TOPIC, STRATEGY_STATE_TOPIC

_records = TypedDecoder(StrategyDeploymentControl)
_snapshots = TypedDecoder(StrategySnapshot)


class NotConfirmed(TimeoutError):
    """No host confirmed running a deployment's epoch in time."""


def latest_records(
    servers: str, topic: str = STRATEGY_CONTROL_TOPIC, timeout_s: float = 30.0
) -> dict[str, StrategyDeploymentControl]:
    """Each deployment's latest record, read from the start of ``topic`` to its end as of now."""
    latest: dict[str, StrategyDeploymentControl] = {}
    for value in latest_values(servers, topic, timeout_s).values():
        try:
            record = _records.decode(value) if value else None
        except EventDecodeError:
            continue  # not ours to judge here: hosts and risk skip it too
        if record is not None and record.epoch >= latest.get(record.deployment, record).epoch:
            latest[record.deployment] = record
    return latest


def write_record(servers: str, record: StrategyDeploymentControl) -> None:
    producer = Producer(producer_settings(servers, ProducerProfile.LATENCY))
    producer.produce(STRATEGY_CONTROL_TOPIC, encode(record), record.key)
    if producer.flush(30):
        raise ConfigError(f"the broker at {servers} did not acknowledge the ctl.strategy record within 30 s")


def deploy(
    servers: str, spec: StrategyDeploymentSpec, host: str, operator: str
) -> tuple[StrategyDeploymentControl, StrategyDeploymentControl | None]:
    """Run ``spec`` on ``host`` at the deployment's next epoch (a running one of the same id is
    replaced: hot deploy); the record written and the one it follows (None for a new deployment)."""
    current = latest_records(servers).get(spec.id)
    record = control_record(spec, host, 1 if current is None else current.epoch + 1, True, operator, time.time_ns())
    write_record(servers, record)
    return record, current


def stop(servers: str, deployment: str, operator: str) -> StrategyDeploymentControl:
    """Stop ``deployment`` (its host stops it; risk refuses its intents from now on)."""
    current = latest_records(servers).get(deployment)
    if current is None:
        raise ConfigError(f"no deployment {deployment!r} in {STRATEGY_CONTROL_TOPIC}")
    stopped = msgspec.structs.replace(current, epoch=current.epoch + 1, running=False, operator=operator, ts_ns=time.time_ns())
    write_record(servers, stopped)
    return stopped


def latest_snapshots(servers: str, timeout_s: float = 30.0) -> dict[str, StrategySnapshot]:
    """Each deployment's latest ``strat.state`` snapshot."""
    found: dict[str, StrategySnapshot] = {}
    for value in latest_values(servers, STRATEGY_STATE_TOPIC, timeout_s).values():
        snapshot = _snapshot_of(value)
        if snapshot is not None:
            found[snapshot.deployment] = snapshot
    return found


def _snapshot_of(value: bytes | None) -> StrategySnapshot | None:
    """A ``strat.state`` value as a snapshot; None for a tombstone or a record that cannot be read."""
    try:
        return _snapshots.decode(value) if value else None
    except EventDecodeError:
        return None


def wait_until_running(servers: str, deployment: str, epoch: int, timeout_s: float, poll_s: float = 1.0) -> StrategySnapshot:
    """The first snapshot of ``deployment`` at ``epoch`` or later: its host runs that version (hosts
    snapshot every ``snapshot_interval_s``). Raises :class:`NotConfirmed` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    key, positions, latest = deployment.encode(), None, None
    while True:  # each poll reads only what arrived since the one before
        messages, positions = read_to_end(servers, STRATEGY_STATE_TOPIC, positions)
        for message in messages:
            if message.key() == key:
                latest = message.value() or None
        snapshot = _snapshot_of(latest)
        if snapshot is not None and snapshot.epoch >= epoch:
            return snapshot
        if time.monotonic() > deadline:
            seen = "no snapshot" if snapshot is None else f"its latest snapshot is of epoch {snapshot.epoch}"
            raise NotConfirmed(f"no host confirmed running {deployment!r} epoch {epoch} within {timeout_s:g} s ({seen})")
        time.sleep(poll_s)
