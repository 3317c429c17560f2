"""One process of a deployment's daemon: how to run it, and what the supervisor remembers of it
(restarts, why it last exited, its latest heartbeat and the recent lag it reported)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import deque
from pathlib import Path

import msgspec

from platform_streams.daemons import daemon_kind
from platform_streams.embedded.processes import describe_exit
from platform_streams.schemas import Heartbeat
from platform_streams.supervisor.backoff import RestartBackoff, RestartBudget
from platform_streams.supervisor.spec import DaemonSpec, shards_by_replica
from platform_streams.supervisor.status import ReplicaStatus

LAG_HISTORY_S = 120.0  # lag samples kept per process: enough for the health's trend window


def configured_heartbeat_interval(spec: DaemonSpec) -> float:
    """The heartbeat interval a daemon is configured with (its heartbeats then report their own)."""
    if "heartbeat_interval_s" in spec.config:
        return float(spec.config["heartbeat_interval_s"])
    for field in msgspec.structs.fields(daemon_kind(spec.kind).settings):
        if field.name == "heartbeat_interval_s" and isinstance(field.default, int | float):
            return float(field.default)
    return 5.0


class Replica:
    """One child process of a daemon spec and its restart bookkeeping."""

    def __init__(
        self, spec: DaemonSpec, index: int, log_file: Path, metrics_port: int, budget: RestartBudget, deployment: str = ""
    ) -> None:
        self.spec = spec
        self.deployment = deployment
        self.index = index
        self.instance = f"{spec.name}-{index}"
        self.log_file = log_file
        self.metrics_port = metrics_port
        self.process: subprocess.Popen[bytes] | None = None
        self.backoff = RestartBackoff()
        self.budget = budget
        self.state = "starting"
        self.restarts = 0
        self.last_exit_code: int | None = None
        self.exit_reason = ""  # the last line its last process wrote before exiting
        self.exited_at: float | None = None
        self.failed_reason = ""
        self.started_at = 0.0
        self.next_start = 0.0
        self.stop_deadline = 0.0  # while stopping: when it is killed if it has not exited
        self.heartbeat: Heartbeat | None = None
        self.heartbeat_interval_s = configured_heartbeat_interval(spec)
        self.lag_samples: deque[tuple[float, int, int]] = deque()

    @property
    def pid(self) -> int:
        return self.process.pid if self.process is not None and self.state == "running" else 0

    def command(self) -> list[str]:
        settings = {
            **self.spec.config,
            "name": self.spec.name,
            "instance": self.instance,
            "metrics_port": self.spec.config.get("metrics_port", self.metrics_port),
            "metrics_port_fallback": "metrics_port" not in self.spec.config,  # ours: taken since, any port will do
        }
        if shards_by_replica(self.spec.kind):
            settings.setdefault("replica", self.index)
            settings.setdefault("replicas", self.spec.replicas)
        return [
            sys.executable,
            "-m",
            "platform_streams.cli.main",
            "daemon",
            self.spec.kind,
            "--values-json",
            json.dumps(settings),
        ]

    def started(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process
        self.state = "running"
        self.started_at = time.time()
        self.lag_samples.clear()  # the trend is the new process's own

    def absorb(self, beat: Heartbeat) -> None:
        """Keep ``beat`` if it is newer than the one we have; the current process's lag joins the trend."""
        if self.heartbeat is not None and beat.ts_ns <= self.heartbeat.ts_ns:
            return
        self.heartbeat = beat
        if beat.pid == self.pid and beat.metrics_port > 0:
            self.metrics_port = beat.metrics_port  # where the process serves them (another port if ours was taken)
        if beat.interval_s > 0:
            self.heartbeat_interval_s = beat.interval_s
        if beat.pid == self.pid and beat.group:  # a consumer: its lag is worth a trend
            sent_at = beat.ts_ns / 1e9
            self.lag_samples.append((sent_at, sum(lag.lag for lag in beat.lags), beat.messages_in))
            while self.lag_samples and self.lag_samples[0][0] < sent_at - LAG_HISTORY_S:
                self.lag_samples.popleft()

    def status(self) -> ReplicaStatus:
        beat = self.heartbeat
        pid = self.pid
        current = beat is not None and beat.pid == pid and pid != 0
        sent_at = beat.ts_ns / 1e9 if beat is not None else None
        last_error, last_error_at = self._last_error()
        return ReplicaStatus(
            name=self.spec.name,
            replica=self.index,
            kind=self.spec.kind,
            instance=self.instance,
            state=self.state,
            pid=pid,
            restarts=self.restarts,
            last_exit_code=self.last_exit_code,
            started_at=self.started_at,
            metrics_port=self.metrics_port,
            log_file=str(self.log_file),
            heartbeat_age_s=(time.time() - sent_at) if sent_at is not None else None,
            heartbeat_state=beat.state if beat is not None else "",
            lag=sum(lag.lag for lag in beat.lags) if current and beat is not None and beat.group else None,  # consumers only
            messages_in=beat.messages_in if beat is not None else 0,
            messages_out=beat.messages_out if beat is not None else 0,
            errors=beat.errors if beat is not None else 0,
            heartbeat_at=sent_at,
            heartbeat_pid=beat.pid if beat is not None else 0,
            heartbeat_interval_s=self.heartbeat_interval_s,
            last_error=last_error,
            last_error_at=last_error_at,
            lag_samples=list(self.lag_samples),
            next_start=self.next_start if self.state == "backoff" else None,
            failed_reason=self.failed_reason,
            deployment=self.deployment,
        )

    def _last_error(self) -> tuple[str, float | None]:
        """The newer of what the daemon reported and why its last process exited."""
        beat = self.heartbeat
        reported_at = beat.last_error_ts_ns / 1e9 if beat is not None and beat.last_error else None
        if self.exited_at is not None and (reported_at is None or self.exited_at >= reported_at):
            return describe_exit(self.last_exit_code, self.exit_reason), self.exited_at
        if beat is not None and reported_at is not None:
            return beat.last_error, reported_at
        return "", None
