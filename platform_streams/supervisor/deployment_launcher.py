"""Launching, rescaling and stopping stream deployments at run time, and waiting until their
supervisor has done it: what ``tradeplat deployment`` and the Dagster control plane call.

A request goes to ``ctl.deployment`` (see :mod:`desired_state`); the supervisor of the request's host
applies it and reports the revision it applied in its status. :class:`LocalDeploymentLauncher`
reads that status where the supervisors of this machine write it (``tradeplat status``'s files).
A launcher for supervisors on other machines implements :class:`DeploymentLauncher` the same way,
reading their status where they publish it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Protocol

import msgspec

from platform_streams.embedded.processes import pid_alive
from platform_streams.schemas import StreamDeploymentControl
from platform_streams.settings import ConfigError
from platform_streams.supervisor.deployment_requests import latest_requests, request_deployment
from platform_streams.supervisor.health import PlatformHealth, StreamDeploymentHealth, evaluate
from platform_streams.supervisor.spec import DeploymentSpec, parse_spec
from platform_streams.supervisor.status import read_statuses


def read_health(status_dir: Path) -> PlatformHealth:
    """What ``tradeplat status`` reports now, from the status files the supervisors of this machine write."""
    return evaluate(read_statuses(status_dir), time.time(), pid_alive)


class DeploymentNotApplied(RuntimeError):
    """A request the supervisor refused, or did not carry out within the time allowed."""


class DeploymentLauncher(Protocol):
    """What the control plane needs of wherever deployments run."""

    def launch(self, spec: DeploymentSpec, host: str, operator: str) -> StreamDeploymentControl: ...

    def scale(self, name: str, daemon: str, replicas: int, operator: str) -> StreamDeploymentControl: ...

    def stop(self, name: str, operator: str) -> StreamDeploymentControl: ...

    def wait(self, record: StreamDeploymentControl, timeout_s: float) -> StreamDeploymentHealth: ...

    def health(self) -> PlatformHealth: ...


class LocalDeploymentLauncher:
    """Deployments of the supervisors on this machine (``tradeplat up`` / ``supervise``)."""

    def __init__(self, kafka_bootstrap_servers: str, status_dir: Path, poll_s: float = 0.5) -> None:
        self._servers = kafka_bootstrap_servers
        self._status_dir = Path(status_dir)
        self._poll_s = poll_s

    def health(self) -> PlatformHealth:
        """What ``tradeplat status --json`` reports now."""
        return read_health(self._status_dir)

    def launch(self, spec: DeploymentSpec, host: str, operator: str) -> StreamDeploymentControl:
        """Run ``spec`` on ``host`` (a deployment of the same name is replaced: only its changed daemons restart)."""
        return request_deployment(self._servers, spec.name, parse_spec(msgspec.to_builtins(spec)), host, operator)

    def scale(self, name: str, daemon: str, replicas: int, operator: str) -> StreamDeploymentControl:
        """Run ``replicas`` processes of one daemon of a running deployment (of an ingestion daemon:
        ``replicas`` shards of its instruments)."""
        spec, host = self.current(name)
        if daemon not in {d.name for d in spec.daemons}:
            raise ConfigError(f"deployment {name!r} has no daemon {daemon!r} (it has {', '.join(d.name for d in spec.daemons)})")
        daemons = [msgspec.structs.replace(d, replicas=replicas) if d.name == daemon else d for d in spec.daemons]
        scaled = parse_spec(msgspec.to_builtins(msgspec.structs.replace(spec, daemons=daemons)))
        return request_deployment(self._servers, name, scaled, host, operator)

    def stop(self, name: str, operator: str) -> StreamDeploymentControl:
        """Stop a deployment's daemons; the others keep running."""
        _, host = self.current(name)
        return request_deployment(self._servers, name, None, host, operator)

    def current(self, name: str) -> tuple[DeploymentSpec, str]:
        """A running deployment's spec and host, as its (live) supervisor reports them."""
        for status in read_statuses(self._status_dir):
            if not pid_alive(status.supervisor_pid):
                continue
            for deployment in status.stream_deployments:
                if deployment.name == name and deployment.running and deployment.spec is not None:
                    return parse_spec(deployment.spec, f"deployment {name!r}"), status.host
        request = latest_requests(self._servers).get(name)
        if request is not None and request.running:
            raise ConfigError(f"deployment {name!r} is asked to run on host {request.host!r}, whose supervisor is not here")
        raise ConfigError(f"no deployment {name!r} is running (see `tradeplat status`)")

    def wait(self, record: StreamDeploymentControl, timeout_s: float) -> StreamDeploymentHealth:
        """Wait until the supervisor of ``record.host`` applied ``record`` and the deployment is as asked
        (running healthy, or stopped); raises :class:`DeploymentNotApplied` with the reason otherwise."""
        deadline = time.monotonic() + timeout_s
        last = "its supervisor has not reported it yet"
        while True:
            verdict, last = self._judge(record, last)
            if verdict is not None:
                return verdict
            if time.monotonic() > deadline:
                raise DeploymentNotApplied(f"deployment {record.deployment!r} not done after {timeout_s:g}s: {last}")
            time.sleep(self._poll_s)

    def _judge(self, record: StreamDeploymentControl, last: str) -> tuple[StreamDeploymentHealth | None, str]:
        supervisors = [d for d in self.health().deployments if d.host == record.host and d.supervisor_running]
        if not supervisors:
            return None, f"no supervisor of host {record.host!r} runs here"
        for supervisor in supervisors:
            for deployment in supervisor.stream_deployments:
                if deployment.name != record.deployment:
                    continue
                if deployment.refused and deployment.refused_revision >= record.revision:
                    raise DeploymentNotApplied(f"deployment {record.deployment!r} refused: {deployment.refused}")
                if deployment.revision < record.revision:
                    return None, "its supervisor has not applied the request yet"
                if record.running and deployment.state == "running":
                    return deployment, ""
                if not record.running and deployment.state in ("stopped", "moved"):
                    return deployment, ""
                return None, f"{deployment.state}: {deployment.problem}" if deployment.problem else deployment.state
        return None, last
