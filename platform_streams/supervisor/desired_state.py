"""What a supervisor should run, and the changes that take its daemons there (pure).

A supervisor starts with the deployments it was given (spec files). The control plane changes
them while it runs through the compacted ``ctl.deployment`` topic: a :class:`StreamDeploymentControl`
record launches or replaces a deployment on a host (its whole spec), or stops it; a tombstone
forgets the record (a deployment from a spec file goes back to the file's spec). A request that
cannot be run (a spec that does not validate, a daemon name another deployment uses) is refused:
the deployment keeps what it ran, and the refusal is reported with it.

:func:`apply_request` folds one record into the desired state; :func:`plan_changes` compares the
daemons that run with the desired ones and says which to start, stop, replace or rescale.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping, Sequence

import msgspec

from platform_streams.schemas import StreamDeploymentControl
from platform_streams.settings import ConfigError
from platform_streams.supervisor.spec import DaemonSpec, DeploymentSpec, parse_spec, shards_by_replica
from platform_streams.topics import DEPLOYMENT_TOPIC

SPEC_FILE = "spec file"
CONTROL_TOPIC = DEPLOYMENT_TOPIC


class DesiredDeployment(msgspec.Struct, frozen=True):
    """One deployment as its supervisor should run it: ``spec`` None means stopped (or run by
    another host). ``error`` is why the latest request for it was refused ("" if none)."""

    name: str
    spec: DeploymentSpec | None
    source: str  # SPEC_FILE or CONTROL_TOPIC
    revision: int = 0  # of the latest request applied (0: the spec file's)
    operator: str = ""
    requested_at: float | None = None
    error: str = ""
    refused_revision: int = 0  # of the latest request refused (0: none)
    host: str = ""  # where a request moved it ("" : here)

    @property
    def running(self) -> bool:
        return self.spec is not None


def initial_state(specs: Sequence[DeploymentSpec]) -> dict[str, DesiredDeployment]:
    """The deployments of the spec files a supervisor was started with."""
    return {spec.name: DesiredDeployment(spec.name, spec, SPEC_FILE) for spec in specs}


def apply_request(
    desired: Mapping[str, DesiredDeployment],
    name: str,
    record: StreamDeploymentControl | None,
    host: str,
    base: Mapping[str, DeploymentSpec],
) -> dict[str, DesiredDeployment]:
    """The desired state after ``record`` (None: a tombstone) for deployment ``name``, as the
    supervisor of ``host`` sees it; ``base`` are its spec files' deployments."""
    result = dict(desired)
    previous = desired.get(name)
    if record is None:
        if name in base:
            result[name] = DesiredDeployment(name, base[name], SPEC_FILE)
        else:
            result.pop(name, None)
        return _refuse_conflicts(result, name, previous, 0)
    if previous is not None and record.revision <= max(previous.revision, previous.refused_revision):
        return result  # an old record read again (a restart of the listener): nothing new
    requested_at = record.ts_ns / 1e9
    if record.host != host:
        if previous is None:
            return result  # another host's deployment
        result[name] = DesiredDeployment(
            name, None, CONTROL_TOPIC, record.revision, record.operator, requested_at, host=record.host
        )
        return result
    if not record.running:
        result[name] = DesiredDeployment(name, None, CONTROL_TOPIC, record.revision, record.operator, requested_at)
        return result
    try:
        spec = spec_of(record)
    except ConfigError as exc:
        return _refused(result, name, previous, record, str(exc))
    result[name] = DesiredDeployment(name, spec, CONTROL_TOPIC, record.revision, record.operator, requested_at)
    return _refuse_conflicts(result, name, previous, record.revision, record)


def spec_of(record: StreamDeploymentControl) -> DeploymentSpec:
    """The deployment spec a record carries, validated (its name must be the record's)."""
    try:
        data = json.loads(record.spec)
    except ValueError as exc:
        raise ConfigError(f"deployment {record.deployment!r}: its spec is not JSON: {exc}") from None
    spec = parse_spec(data, f"deployment {record.deployment!r}")
    if spec.name != record.deployment:
        raise ConfigError(f"deployment {record.deployment!r}: its spec is named {spec.name!r}")
    return spec


def control_record(
    spec: DeploymentSpec | None, name: str, host: str, revision: int, operator: str, ts_ns: int
) -> StreamDeploymentControl:
    """The record that asks ``host`` to run ``spec`` (None: to stop deployment ``name``)."""
    payload = json.dumps(msgspec.to_builtins(spec)).encode() if spec is not None else b""
    return StreamDeploymentControl(name, host, spec is not None, payload, revision, operator, ts_ns)


def _refuse_conflicts(
    result: dict[str, DesiredDeployment],
    name: str,
    previous: DesiredDeployment | None,
    revision: int,
    record: StreamDeploymentControl | None = None,
) -> dict[str, DesiredDeployment]:
    """Refuse ``name``'s new spec if one of its daemon names is another running deployment's."""
    current = result.get(name)
    if current is None or current.spec is None:
        return result
    others = {d.name: other.name for other in result.values() if other.name != name and other.spec for d in other.spec.daemons}
    taken = sorted(d.name for d in current.spec.daemons if d.name in others)
    if not taken:
        return result
    reason = "; ".join(f"daemon name {n!r} is used by deployment {others[n]!r}" for n in taken)
    if record is None:  # a tombstone brought a spec file's deployment back into a conflict
        result[name] = DesiredDeployment(name, None, SPEC_FILE, error=reason)
        return result
    return _refused(result, name, previous, record, reason)


def _refused(
    result: dict[str, DesiredDeployment],
    name: str,
    previous: DesiredDeployment | None,
    record: StreamDeploymentControl,
    reason: str,
) -> dict[str, DesiredDeployment]:
    kept = previous or DesiredDeployment(name, None, CONTROL_TOPIC)
    result[name] = msgspec.structs.replace(kept, error=reason, refused_revision=record.revision)
    return result


def refuse(desired: Mapping[str, DesiredDeployment], name: str, reason: str) -> dict[str, DesiredDeployment]:
    """Report a record for ``name`` that is not a request at all; the deployment keeps what it ran."""
    result = dict(desired)
    kept = desired.get(name) or DesiredDeployment(name, None, CONTROL_TOPIC)
    result[name] = msgspec.structs.replace(kept, error=reason)
    return result


class ChangeKind(enum.Enum):
    START = "start"  # a new daemon: start its replicas
    STOP = "stop"  # no longer desired: stop its replicas
    REPLACE = "replace"  # its settings changed: stop its replicas, then start them with the new ones
    RESCALE = "rescale"  # only its replica count changed: start or stop the difference


class DaemonChange(msgspec.Struct, frozen=True):
    kind: ChangeKind
    daemon: str
    spec: DaemonSpec | None  # the new spec (None for STOP)


def desired_daemons(desired: Mapping[str, DesiredDeployment]) -> dict[str, tuple[str, DaemonSpec]]:
    """Every daemon the running desired deployments hold: its name → (deployment, spec)."""
    return {d.name: (deployment.name, d) for deployment in desired.values() if deployment.spec for d in deployment.spec.daemons}


def plan_changes(current: Mapping[str, DaemonSpec], desired: Mapping[str, DaemonSpec]) -> list[DaemonChange]:
    """The changes that take the running daemons (``current``, by name) to ``desired``; a daemon
    whose spec is unchanged is left alone, so the other deployments keep running untouched."""
    changes = [DaemonChange(ChangeKind.STOP, name, None) for name in current if name not in desired]
    for name, spec in desired.items():
        running = current.get(name)
        if running is None:
            changes.append(DaemonChange(ChangeKind.START, name, spec))
        elif running == spec:
            continue
        elif msgspec.structs.replace(running, replicas=spec.replicas) == spec and not shards_by_replica(spec.kind):
            changes.append(DaemonChange(ChangeKind.RESCALE, name, spec))
        else:  # new settings, or a new count of shards (every shard's share of the work changes)
            changes.append(DaemonChange(ChangeKind.REPLACE, name, spec))
    return changes
