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

Given a ``host``, the supervisor also follows ``ctl.deployment`` (see :mod:`desired_state`): it
reads the requests made before it started, then applies each new one while it runs — starting a
launched deployment's daemons, rescaling or replacing a changed daemon's replicas, stopping a
stopped deployment's — and leaves every daemon whose spec did not change running untouched.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import msgspec

from platform_streams.embedded.processes import describe_exit, die_with_parent, free_port, last_line, terminate_pid
from platform_streams.supervisor.backoff import RestartBudget
from platform_streams.supervisor.deployment_requests import BadRequest, DeploymentRequestListener
from platform_streams.supervisor.desired_state import (
    ChangeKind,
    DesiredDeployment,
    apply_request,
    desired_daemons,
    initial_state,
    plan_changes,
    refuse,
)
from platform_streams.supervisor.heartbeats import HeartbeatListener
from platform_streams.supervisor.replica import Replica
from platform_streams.supervisor.services import ServiceSupervisor
from platform_streams.supervisor.spec import DaemonSpec, DeploymentSpec, RestartPolicy, combine_specs
from platform_streams.supervisor.status import DeploymentStatus, StreamDeploymentStatus, write_status

log = logging.getLogger(__name__)

DAEMON_RESTART_BUDGET = (10, 600.0)  # restarts, window in seconds
STOP_GRACE_S = 30.0  # a daemon stopped at run time is killed if it has not exited after this
CATCH_UP_TIMEOUT_S = 30.0  # how long start-up waits for the requests made before it


class Supervisor:
    """Starts, watches, restarts and stops the replicas of one deployment (and watches its servers)."""

    def __init__(
        self,
        spec: DeploymentSpec | Sequence[DeploymentSpec],
        env: Mapping[str, str],
        state_dir: Path,
        services: ServiceSupervisor | None = None,
        restart_budget: tuple[int, float] = DAEMON_RESTART_BUDGET,
        host: str | None = None,
    ) -> None:
        specs = [spec] if isinstance(spec, DeploymentSpec) else list(spec)
        self.spec = combine_specs(specs)  # the start-up deployments, run as one (its name names the supervisor)
        self._env = {**os.environ, **env}
        self.log_dir = state_dir / "logs" / self.spec.name
        self.status_file = state_dir / "supervisor" / f"{self.spec.name}.json"
        self.services = services
        self.host = host
        self._budget = restart_budget
        self._base = {s.name: s for s in specs}
        self.desired: dict[str, DesiredDeployment] = initial_state(specs)
        self.replicas: list[Replica] = []
        self._running: dict[str, DaemonSpec] = {}  # daemon name -> the spec its replicas run
        self._apply_desired(time.time())
        bootstrap = env.get("KAFKA_BOOTSTRAP_SERVERS")
        self._heartbeats = HeartbeatListener(bootstrap) if bootstrap else None
        self._requests = DeploymentRequestListener(bootstrap) if bootstrap and host is not None else None
        self._stopping = False

    def start(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        if self._heartbeats is not None:
            self._heartbeats.start()
        if self._requests is not None:
            self._requests.start()
            if not self._requests.wait_caught_up(CATCH_UP_TIMEOUT_S):
                log.warning("ctl.deployment not read to its end in time; starting the spec files' deployments")
            self._take_requests(time.time())
        self._spawn_pending()
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
        log.info("daemon started", extra={"instance": replica.instance, "pid": process.pid, "deployment": replica.deployment})

    def _take_requests(self, now: float) -> None:
        """Fold the ``ctl.deployment`` records read since the last tick into the desired state, and apply it."""
        if self._requests is None:
            return
        taken = self._requests.take()
        for name, record in taken:
            before = self.desired.get(name)
            if isinstance(record, BadRequest):
                self.desired = refuse(self.desired, name, record.reason)
            else:
                self.desired = apply_request(self.desired, name, record, self.host or "", self._base)
            after = self.desired.get(name)
            if after != before:
                log.info(
                    "deployment request",
                    extra={
                        "deployment": name,
                        "running": after is not None and after.running,
                        "revision": after.revision if after is not None else 0,
                        "refused": after.error if after is not None else "",
                    },
                )
        if taken:
            self._apply_desired(now)

    def _apply_desired(self, now: float) -> None:
        """Start, stop, rescale or replace daemons so that what runs is what is desired."""
        wanted = desired_daemons(self.desired)
        for change in plan_changes(self._running, {name: spec for name, (_, spec) in wanted.items()}):
            mine = [r for r in self.replicas if r.spec.name == change.daemon and r.state != "stopping"]
            if change.kind is ChangeKind.STOP:
                for replica in mine:
                    self._retire(replica, now)
                del self._running[change.daemon]
                continue
            assert change.spec is not None
            deployment = wanted[change.daemon][0]
            if change.kind is ChangeKind.RESCALE:
                for replica in mine:
                    if replica.index >= change.spec.replicas:
                        self._retire(replica, now)
                    else:
                        replica.spec = change.spec
                indices = range(len([r for r in mine if r.index < change.spec.replicas]), change.spec.replicas)
            else:
                for replica in mine:
                    self._retire(replica, now)
                indices = range(change.spec.replicas)
            self._add_replicas(deployment, change.spec, indices)
            self._running[change.daemon] = change.spec
            log.info("daemon %s", change.kind.value, extra={"daemon": change.daemon, "deployment": deployment})
        for replica in self.replicas:
            if replica.state != "stopping" and replica.spec.name in wanted:
                replica.deployment = wanted[replica.spec.name][0]

    def _add_replicas(self, deployment: str, spec: DaemonSpec, indices: range) -> None:
        for i in indices:
            replica = Replica(
                spec, i, self.log_dir / f"{spec.name}-{i}.log", free_port(), RestartBudget(*self._budget), deployment
            )
            replica.state = "pending"
            self.replicas.append(replica)

    def _retire(self, replica: Replica, now: float) -> None:
        """Stop a replica no longer desired: SIGTERM now, SIGKILL after the grace; gone once it exited."""
        process = replica.process
        if replica.state != "running" or process is None or process.poll() is not None:
            self.replicas.remove(replica)
            return
        with contextlib.suppress(ProcessLookupError):  # exited a moment ago: the next tick sees it
            process.terminate()
        replica.state = "stopping"
        replica.stop_deadline = now + STOP_GRACE_S

    def _spawn_pending(self) -> None:
        """Start the replicas waiting to, each once the process it replaces (same instance) has exited."""
        stopping = {r.instance for r in self.replicas if r.state == "stopping"}
        for replica in self.replicas:
            if replica.state == "pending" and replica.instance not in stopping and not self._stopping:
                self._spawn(replica)

    def tick(self) -> None:
        """Watch the servers, notice exits, schedule and perform restarts; call every few hundred ms
        (from the thread that started the children: their parent-death signal is tied to it)."""
        now = time.time()
        if self.services is not None and self.services.tick(now):
            self._restart_waiting_replicas(now)
        self._take_requests(now)
        self._absorb_heartbeats()
        for replica in list(self.replicas):
            process = replica.process
            if replica.state == "stopping" and process is not None:
                if process.poll() is not None:
                    self.replicas.remove(replica)
                    log.info("daemon stopped", extra={"instance": replica.instance, "exit_code": process.returncode})
                elif now >= replica.stop_deadline:
                    log.error("daemon did not stop in time; killing it", extra={"instance": replica.instance})
                    terminate_pid(process.pid, 0.0)
                continue
            if replica.state == "running" and process is not None and process.poll() is not None:
                self._on_exit(replica, process.returncode, now)
            if replica.state == "backoff" and now >= replica.next_start and not self._stopping:
                replica.restarts += 1
                self._spawn(replica)
        self._spawn_pending()
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
        if self._requests is not None:
            self._requests.stop()
        self.write_status()

    def write_status(self) -> None:
        write_status(self.status_file, self.status())

    def status(self) -> DeploymentStatus:
        servers = self.services.statuses() if self.services is not None else []
        deployments = [_deployment_status(d) for d in self.desired.values()]
        replicas = [r.status() for r in self.replicas]
        return DeploymentStatus(self.spec.name, os.getpid(), time.time(), replicas, servers, self.host or "", deployments)

    def run_until(self, stop_requested: Callable[[], bool], tick_s: float = 0.25) -> None:
        while not stop_requested():
            self.tick()
            time.sleep(tick_s)


def _deployment_status(desired: DesiredDeployment) -> StreamDeploymentStatus:
    spec = desired.spec
    return StreamDeploymentStatus(
        name=desired.name,
        running=desired.running,
        source=desired.source,
        revision=desired.revision,
        operator=desired.operator,
        requested_at=desired.requested_at,
        error=desired.error,
        refused_revision=desired.refused_revision,
        host=desired.host,
        daemons=[d.name for d in spec.daemons] if spec is not None else [],
        spec=msgspec.to_builtins(spec) if spec is not None else None,
    )
