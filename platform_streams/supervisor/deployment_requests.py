"""``ctl.deployment``, the desired state of stream deployments: asking for a deployment to be
launched, rescaled or stopped (the CLI, the Dagster launcher) and following the requests (the
supervisor of each host)."""

from __future__ import annotations

import logging
import queue
import time

import msgspec
from confluent_kafka import Producer

from platform_streams.kafka_clients import ProducerProfile, producer_settings
from platform_streams.schemas import EventDecodeError, StreamDeploymentControl, TypedDecoder, encode
from platform_streams.settings import ConfigError
from platform_streams.supervisor.desired_state import control_record
from platform_streams.supervisor.spec import DeploymentSpec
from platform_streams.supervisor.topic_follower import TopicFollower
from platform_streams.topic_reading import latest_values
from platform_streams.topics import DEPLOYMENT_TOPIC

log = logging.getLogger(__name__)

_records = TypedDecoder(StreamDeploymentControl)


def latest_requests(servers: str, timeout_s: float = 30.0) -> dict[str, StreamDeploymentControl]:
    """Each deployment's latest request, read from ``ctl.deployment`` as of now."""
    latest = {}
    for name, value in latest_values(servers, DEPLOYMENT_TOPIC, timeout_s).items():
        try:
            if value is not None:
                latest[name] = _records.decode(value)
        except EventDecodeError:
            continue  # the supervisors report it with the deployment
    return latest


_SECRET_WORDS = ("SECRET", "PASSWORD", "PASSPHRASE", "TOKEN", "API_KEY", "PRIVATE_KEY", "CREDENTIAL")


def refuse_secrets(spec: DeploymentSpec) -> None:
    """A request travels through Kafka: refuse one whose daemons' environment or settings name a secret
    (exchange keys reach daemons from their host's environment or secrets store, never from a request)."""
    for daemon in spec.daemons:
        named = [name for name in (*daemon.env, *daemon.config) if any(word in name.upper() for word in _SECRET_WORDS)]
        if named:
            raise ConfigError(
                f"daemon {daemon.name!r} carries {', '.join(sorted(named))}: a secret never goes into ctl.deployment; "
                "give it to the daemons through their host's environment or secrets store"
            )


def request_deployment(
    servers: str, name: str, spec: DeploymentSpec | None, host: str, operator: str, timeout_s: float = 30.0
) -> StreamDeploymentControl:
    """Ask ``host``'s supervisor to run ``spec`` as deployment ``name`` (None: to stop it), with a
    revision above the deployment's latest; returns the record once the broker has it."""
    if spec is not None and spec.name != name:
        raise ConfigError(f"the spec is named {spec.name!r}, not {name!r}")
    if spec is not None:
        refuse_secrets(spec)
    previous = latest_requests(servers, timeout_s).get(name)
    now = time.time_ns()
    revision = max(now, previous.revision + 1) if previous is not None else now
    record = control_record(spec, name, host, revision, operator, now)
    producer = Producer(producer_settings(servers, ProducerProfile.LATENCY))
    producer.produce(DEPLOYMENT_TOPIC, encode(record), record.key)
    if producer.flush(timeout_s):
        raise ConfigError(f"the broker at {servers} did not acknowledge the {DEPLOYMENT_TOPIC} record within {timeout_s} s")
    return record


class BadRequest(msgspec.Struct, frozen=True):
    """A record of ``ctl.deployment`` that is not a request (reported with the deployment it names)."""

    reason: str


class DeploymentRequestListener:
    """Reads ``ctl.deployment`` whole, then follows it; the supervisor takes what arrived each tick."""

    def __init__(self, bootstrap_servers: str) -> None:
        self._arrived: queue.SimpleQueue[tuple[str, StreamDeploymentControl | BadRequest | None]] = queue.SimpleQueue()
        self._follower = TopicFollower(bootstrap_servers, DEPLOYMENT_TOPIC, self._on_record, from_beginning=True)

    def start(self) -> None:
        self._follower.start()

    def stop(self) -> None:
        self._follower.stop()

    def wait_caught_up(self, timeout_s: float) -> bool:
        """Whether the requests made before the supervisor started are all read (within ``timeout_s``)."""
        return self._follower.caught_up.wait(timeout_s)

    def take(self) -> list[tuple[str, StreamDeploymentControl | BadRequest | None]]:
        """The records read since the last call, oldest first, as (deployment, request or tombstone)."""
        taken = []
        while True:
            try:
                taken.append(self._arrived.get_nowait())
            except queue.Empty:
                return taken

    def _on_record(self, key: bytes | None, value: bytes | None) -> None:
        if key is None:
            log.warning("a ctl.deployment record without a key is ignored")
            return
        name = key.decode(errors="replace")
        if value is None:
            self._arrived.put((name, None))
            return
        try:
            record = _records.decode(value)
        except EventDecodeError as exc:
            self._arrived.put((name, BadRequest(f"not a deployment request: {exc}")))
            return
        if record.deployment != name:
            self._arrived.put((name, BadRequest(f"the record's key is {name!r} but it asks for {record.deployment!r}")))
            return
        self._arrived.put((name, record))
