"""The supervisor's status file and its rendering for ``tradeplat status``."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import msgspec

from platform_streams.embedded.processes import pid_alive


class ReplicaStatus(msgspec.Struct):
    """One daemon process as the supervisor sees it, merged with its latest heartbeat."""

    name: str
    replica: int
    kind: str
    instance: str
    state: str  # starting | running | backoff | completed | stopped | failed
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


class DeploymentStatus(msgspec.Struct):
    deployment: str
    supervisor_pid: int
    updated_at: float
    replicas: list[ReplicaStatus]


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


def render(statuses: list[DeploymentStatus], now: float | None = None) -> str:
    """A table per deployment: state, restarts, lag and heartbeat age of every replica."""
    now = time.time() if now is None else now
    if not statuses:
        return "no deployment is running (start one with `tradeplat up`)"
    lines: list[str] = []
    for status in statuses:
        alive = pid_alive(status.supervisor_pid)
        lines.append(
            f"deployment {status.deployment}: supervisor pid {status.supervisor_pid} "
            f"{'running' if alive else 'NOT RUNNING'}, updated {now - status.updated_at:.1f}s ago"
        )
        header = ("daemon", "state", "pid", "restarts", "exit", "lag", "in", "out", "errors", "heartbeat", "metrics")
        rows = [header]
        for r in status.replicas:
            rows.append(
                (
                    f"{r.name}[{r.replica}]",
                    r.state if alive else "unknown",
                    str(r.pid or "-"),
                    str(r.restarts),
                    "-" if r.last_exit_code is None else str(r.last_exit_code),
                    "-" if r.lag is None else str(r.lag),
                    str(r.messages_in),
                    str(r.messages_out),
                    str(r.errors),
                    "-" if r.heartbeat_age_s is None else f"{r.heartbeat_age_s:.1f}s ago",
                    f":{r.metrics_port}" if r.metrics_port > 0 else "-",
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        for row in rows:
            lines.append("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def as_json(statuses: list[DeploymentStatus]) -> str:
    return json.dumps([msgspec.to_builtins(s) for s in statuses], indent=2)
