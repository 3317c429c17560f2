"""The supervisor's status file: the facts it sees about its processes, their latest heartbeats
and the servers, written every tick for ``tradeplat status`` (which judges them, see ``health``).

Times are seconds since the epoch, so a reader can age them itself: a heartbeat that stops
arriving (a daemon hung, or the broker gone) grows older in every reading.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import msgspec

from platform_streams.embedded.processes import pid_alive


class ReplicaStatus(msgspec.Struct):
    """One daemon process as the supervisor sees it, merged with its latest heartbeat."""

    name: str
    replica: int
    kind: str
    instance: str
    state: str  # pending | running | backoff | stopping | completed | stopped | failed
    pid: int
    restarts: int
    last_exit_code: int | None
    started_at: float
    metrics_port: int
    log_file: str
    heartbeat_age_s: float | None = None
    heartbeat_state: str = ""
    lag: int | None = None
    messages_in: int = 0
    messages_out: int = 0
    errors: int = 0
    heartbeat_at: float | None = None  # when the latest heartbeat (of any process of this replica) was sent
    heartbeat_pid: int = 0  # which process sent it: only the current one's speaks for the replica
    heartbeat_interval_s: float = 5.0  # as the daemon reports it, else as configured
    last_error: str = ""  # the daemon's own (from its heartbeat), or why its last process exited
    last_error_at: float | None = None
    # (heartbeat time, total lag, messages consumed) of the current process, oldest first
    lag_samples: list[tuple[float, int, int]] = []
    next_start: float | None = None  # when a replica in backoff is restarted
    failed_reason: str = ""  # why the supervisor gave up on it
    deployment: str = ""  # the stream deployment it belongs to


class ServerStatus(msgspec.Struct):
    """A server the daemons depend on: embedded (supervised, restarted) or external (only probed)."""

    name: str  # kafka | postgres | dagster-webserver | dagster-daemon
    description: str
    address: str
    embedded: bool
    critical: bool  # whether it failing for good stops the platform
    state: str  # starting | running | restarting | failed | stopped | external
    pid: int = 0
    restarts: int = 0
    last_exit_code: int | None = None
    last_error: str = ""
    started_at: float = 0.0
    down_since: float | None = None
    next_start: float | None = None
    probe_ok: bool | None = None  # None: no answer yet (or nothing to probe)
    probe_checked_at: float = 0.0
    probe_failing_since: float | None = None
    probe_error: str = ""


class StreamDeploymentStatus(msgspec.Struct):
    """One deployment of stream daemons a supervisor runs (or was asked to run, or stopped)."""

    name: str
    running: bool  # desired: its daemons run (False: stopped, or moved to another host)
    source: str  # "spec file" (the supervisor's start-up specs) | "ctl.deployment" (a request at run time)
    revision: int = 0  # of the latest request applied (0: the spec file's)
    operator: str = ""
    requested_at: float | None = None
    error: str = ""  # why the latest request was refused
    refused_revision: int = 0
    host: str = ""  # the host a request moved it to
    daemons: list[str] = []
    spec: dict[str, Any] | None = None  # what it runs, as a deployment spec


class DeploymentStatus(msgspec.Struct):
    deployment: str
    supervisor_pid: int
    updated_at: float
    replicas: list[ReplicaStatus]
    servers: list[ServerStatus] = []
    host: str = ""  # the host whose ctl.deployment requests it follows ("": it follows none)
    stream_deployments: list[StreamDeploymentStatus] = []


def write_status(path: Path, status: DeploymentStatus) -> None:
    """Atomically replace the status file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(msgspec.json.encode(status))
    os.replace(temporary, path)


def read_statuses(folder: Path) -> list[DeploymentStatus]:
    statuses = []
    for path in sorted(folder.glob("*.json")):
        try:
            statuses.append(msgspec.json.decode(path.read_bytes(), type=DeploymentStatus))
        except (msgspec.DecodeError, msgspec.ValidationError, OSError):
            continue
    return statuses


def remove_stale(folder: Path) -> list[str]:
    """Delete the status files of supervisors that are gone (a deployment `up` ran before, or one
    that was killed), so ``tradeplat status`` shows only what runs now; returns their deployments."""
    removed = []
    for path in sorted(folder.glob("*.json")):
        try:
            status = msgspec.json.decode(path.read_bytes(), type=DeploymentStatus)
        except (msgspec.DecodeError, msgspec.ValidationError, OSError):
            continue
        if not pid_alive(status.supervisor_pid):
            path.unlink(missing_ok=True)
            removed.append(status.deployment)
    return removed
