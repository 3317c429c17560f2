"""Runs a deployment's daemons as child processes and keeps them running.

Each replica is ``python -m platform_streams.cli.main daemon <kind>`` with its
settings as JSON; a kind that shards its work (settings with ``replica`` and
``replicas``, e.g. ingestion) is told its index and the replica count. A crashed
one is restarted after an exponential backoff. Children
get their own session (a terminal's Ctrl-C reaches only the supervisor, which then
stops them in order) and die with the supervisor even if it is SIGKILLed.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from platform_streams.embedded.processes import die_with_parent, free_port, terminate_pid
from platform_streams.supervisor.backoff import RestartBackoff
from platform_streams.supervisor.heartbeats import HeartbeatListener
from platform_streams.supervisor.spec import DaemonSpec, DeploymentSpec, RestartPolicy, shards_by_replica
from platform_streams.supervisor.status import DeploymentStatus, ReplicaStatus, write_status

log = logging.getLogger(__name__)


class Replica:
    """One child process of a daemon spec and its restart bookkeeping."""

    def __init__(self, spec: DaemonSpec, index: int, log_file: Path, metrics_port: int) -> None:
        self.spec = spec
        self.index = index
        self.instance = f"{spec.name}-{index}"
        self.log_file = log_file
        self.metrics_port = metrics_port
        self.process: subprocess.Popen[bytes] | None = None
        self.backoff = RestartBackoff()
        self.state = "starting"
        self.restarts = 0
        self.last_exit_code: int | None = None
        self.started_at = 0.0
        self.next_start = 0.0

    def command(self) -> list[str]:
        settings = {
            **self.spec.config,
            "name": self.spec.name,
            "instance": self.instance,
            "metrics_port": self.spec.config.get("metrics_port", self.metrics_port),
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


class Supervisor:
    """Starts, watches, restarts and stops the replicas of one deployment."""

    def __init__(self, spec: DeploymentSpec, env: Mapping[str, str], state_dir: Path) -> None:
        self.spec = spec
        self._env = {**os.environ, **env}
        self.log_dir = state_dir / "logs" / spec.name
        self.status_file = state_dir / "supervisor" / f"{spec.name}.json"
        self.replicas = [
            Replica(daemon, i, self.log_dir / f"{daemon.name}-{i}.log", free_port())
            for daemon in spec.daemons
            for i in range(daemon.replicas)
        ]
        self._heartbeats = HeartbeatListener(env["KAFKA_BOOTSTRAP_SERVERS"]) if env.get("KAFKA_BOOTSTRAP_SERVERS") else None
        self._stopping = False

    def start(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        if self._heartbeats is not None:
            self._heartbeats.start()
        for replica in self.replicas:
            self._spawn(replica)
        self.write_status()

    def _spawn(self, replica: Replica) -> None:
        with open(replica.log_file, "ab") as log_stream:
            replica.process = subprocess.Popen(
                replica.command(),
                stdout=log_stream,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**self._env, **replica.spec.env},
                start_new_session=True,
                preexec_fn=die_with_parent,
            )
        replica.state = "running"
        replica.started_at = time.time()
        log.info("daemon started", extra={"instance": replica.instance, "pid": replica.process.pid})

    def tick(self) -> None:
        """Notice exits, schedule and perform restarts; call every few hundred ms."""
        now = time.time()
        for replica in self.replicas:
            process = replica.process
            if replica.state == "running" and process is not None and process.poll() is not None:
                self._on_exit(replica, process.returncode, now)
            if replica.state == "backoff" and now >= replica.next_start and not self._stopping:
                replica.restarts += 1
                self._spawn(replica)
        self.write_status()

    def _on_exit(self, replica: Replica, code: int, now: float) -> None:
        replica.last_exit_code = code
        if code == 0 and replica.spec.restart is RestartPolicy.ON_FAILURE:
            replica.state = "completed"
            log.info("daemon completed", extra={"instance": replica.instance})
            return
        delay = replica.backoff.next_delay(now - replica.started_at)
        replica.state = "backoff"
        replica.next_start = now + delay
        log.warning(
            "daemon exited; restarting after backoff",
            extra={"instance": replica.instance, "exit_code": code, "delay_s": delay, "log": str(replica.log_file)},
        )

    def stop(self, grace_s: float = 30.0) -> None:
        """SIGTERM every child, wait for them to drain and commit, SIGKILL stragglers."""
        self._stopping = True
        running = [r for r in self.replicas if r.process is not None and r.process.poll() is None]
        for replica in running:
            assert replica.process is not None
            try:
                replica.process.terminate()
            except ProcessLookupError:
                continue
        deadline = time.monotonic() + grace_s
        for replica in running:
            assert replica.process is not None
            try:
                replica.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.error("daemon did not stop in time; killing it", extra={"instance": replica.instance})
                terminate_pid(replica.process.pid, 0.0)
                replica.process.wait()
        for replica in self.replicas:
            replica.state = "stopped"
            if replica.process is not None:
                replica.last_exit_code = replica.process.returncode
        if self._heartbeats is not None:
            self._heartbeats.stop()
        self.write_status()

    def write_status(self) -> None:
        write_status(self.status_file, self.status())

    def status(self) -> DeploymentStatus:
        now = time.time()
        beats = self._heartbeats.latest if self._heartbeats is not None else {}
        replicas = []
        for r in self.replicas:
            beat = beats.get(r.instance)
            fresh = beat is not None and beat.pid == (r.process.pid if r.process else -1)
            replicas.append(
                ReplicaStatus(
                    name=r.spec.name,
                    replica=r.index,
                    kind=r.spec.kind,
                    instance=r.instance,
                    state=r.state,
                    pid=r.process.pid if r.process is not None and r.state == "running" else 0,
                    restarts=r.restarts,
                    last_exit_code=r.last_exit_code,
                    started_at=r.started_at,
                    metrics_port=r.metrics_port,
                    log_file=str(r.log_file),
                    heartbeat_age_s=(now - beat.ts_ns / 1e9) if beat is not None else None,
                    heartbeat_state=beat.state if beat is not None else "",
                    lag=sum(lag.lag for lag in beat.lags) if fresh and beat is not None else None,
                    messages_in=beat.messages_in if beat is not None else 0,
                    messages_out=beat.messages_out if beat is not None else 0,
                    errors=beat.errors if beat is not None else 0,
                )
            )
        return DeploymentStatus(self.spec.name, os.getpid(), now, replicas)

    def run_until(self, stop_requested: Callable[[], bool], tick_s: float = 0.25) -> None:
        while not stop_requested():
            self.tick()
            time.sleep(tick_s)
