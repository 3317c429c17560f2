"""Runs a deployment's daemons as child processes and keeps them running.

Each replica is ``python -m platform_streams.cli.main daemon <kind>`` with its
settings as JSON; a kind that shards its work (settings with ``replica`` and
``replicas``, e.g. ingestion) is told its index and the replica count. A crashed
one is restarted after an exponential backoff, within a restart budget: a replica
that crashes more often than that is marked failed and left alone. Crashes while a
critical server (broker, database) is down are not charged to the budget, and when
such a server comes back every replica waiting in backoff is restarted at once.
Children get their own session (a terminal's Ctrl-C reaches only the supervisor,
which then stops them in order) and die with the supervisor even if it is SIGKILLed.

With a :class:`ServiceSupervisor`, the same tick also watches and restarts the servers,
and the status file carries their state next to the daemons'.
"""

from __future__ import annotations

import logging
import os
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from platform_streams.embedded.processes import describe_exit, die_with_parent, free_port, last_line, terminate_pid
from platform_streams.supervisor.backoff import RestartBudget
from platform_streams.supervisor.heartbeats import HeartbeatListener
from platform_streams.supervisor.replica import Replica
from platform_streams.supervisor.services import ServiceSupervisor
from platform_streams.supervisor.spec import DeploymentSpec, RestartPolicy
from platform_streams.supervisor.status import DeploymentStatus, write_status

log = logging.getLogger(__name__)

DAEMON_RESTART_BUDGET = (10, 600.0)  # restarts, window in seconds


class Supervisor:
    """Starts, watches, restarts and stops the replicas of one deployment (and watches its servers)."""

    def __init__(
        self,
        spec: DeploymentSpec,
        env: Mapping[str, str],
        state_dir: Path,
        services: ServiceSupervisor | None = None,
        restart_budget: tuple[int, float] = DAEMON_RESTART_BUDGET,
    ) -> None:
        self.spec = spec
        self._env = {**os.environ, **env}
        self.log_dir = state_dir / "logs" / spec.name
        self.status_file = state_dir / "supervisor" / f"{spec.name}.json"
        self.services = services
        self.replicas = [
            Replica(daemon, i, self.log_dir / f"{daemon.name}-{i}.log", free_port(), RestartBudget(*restart_budget))
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
            process = subprocess.Popen(
                replica.command(),
                stdout=log_stream,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**self._env, **replica.spec.env},
                start_new_session=True,
                preexec_fn=die_with_parent,
            )
        replica.started(process)
        log.info("daemon started", extra={"instance": replica.instance, "pid": process.pid})

    def tick(self) -> None:
        """Watch the servers, notice exits, schedule and perform restarts; call every few hundred ms
        (from the thread that started the children: their parent-death signal is tied to it)."""
        now = time.time()
        if self.services is not None and self.services.tick(now):
            self._restart_waiting_replicas(now)
        self._absorb_heartbeats()
        for replica in self.replicas:
            process = replica.process
            if replica.state == "running" and process is not None and process.poll() is not None:
                self._on_exit(replica, process.returncode, now)
            if replica.state == "backoff" and now >= replica.next_start and not self._stopping:
                replica.restarts += 1
                self._spawn(replica)
        self.write_status()

    def _absorb_heartbeats(self) -> None:
        if self._heartbeats is None:
            return
        latest = self._heartbeats.latest
        for replica in self.replicas:
            beat = latest.get(replica.instance)
            if beat is not None:
                replica.absorb(beat)

    def _restart_waiting_replicas(self, now: float) -> None:
        """A server came back: what crashed because it was gone need not wait out a long backoff."""
        for replica in self.replicas:
            if replica.state == "backoff":
                replica.backoff.forgive()
                replica.next_start = min(replica.next_start, now)

    def _on_exit(self, replica: Replica, code: int, now: float) -> None:
        replica.last_exit_code = code
        replica.exit_reason = last_line(replica.log_file)
        replica.exited_at = now
        if code == 0 and replica.spec.restart is RestartPolicy.ON_FAILURE:
            replica.state = "completed"
            log.info("daemon completed", extra={"instance": replica.instance})
            return
        servers_down = self.services is not None and self.services.critical_down()
        if not servers_down and not replica.budget.spend(now):
            replica.state = "failed"
            replica.failed_reason = f"more than {replica.budget.describe()}; last: {describe_exit(code, replica.exit_reason)}"
            log.error(
                "daemon keeps crashing; no more restarts",
                extra={"instance": replica.instance, "exit_code": code, "reason": replica.failed_reason},
            )
            return
        delay = replica.backoff.next_delay(now - replica.started_at)
        replica.state = "backoff"
        replica.next_start = now + delay
        log.warning(
            "daemon exited; restarting after backoff",
            extra={
                "instance": replica.instance,
                "exit_code": code,
                "delay_s": delay,
                "last_line": replica.exit_reason,
                "servers_down": servers_down,
                "log": str(replica.log_file),
            },
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
            if replica.state != "failed":
                replica.state = "stopped"
            if replica.process is not None:
                replica.last_exit_code = replica.process.returncode
        if self._heartbeats is not None:
            self._heartbeats.stop()
        self.write_status()

    def write_status(self) -> None:
        write_status(self.status_file, self.status())

    def status(self) -> DeploymentStatus:
        servers = self.services.statuses() if self.services is not None else []
        return DeploymentStatus(self.spec.name, os.getpid(), time.time(), [r.status() for r in self.replicas], servers)

    def run_until(self, stop_requested: Callable[[], bool], tick_s: float = 0.25) -> None:
        while not stop_requested():
            self.tick()
            time.sleep(tick_s)
