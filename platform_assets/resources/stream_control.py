"""Resources of the stream control plane: the deployment launcher and the platform status reader."""

from __future__ import annotations

import time
from pathlib import Path

import dagster as dg

from platform_streams.embedded.paths import state_dir
from platform_streams.embedded.processes import pid_alive
from platform_streams.supervisor.deployment_launcher import DeploymentLauncher, LocalDeploymentLauncher, read_health
from platform_streams.supervisor.health import PlatformHealth, evaluate
from platform_streams.supervisor.status import DeploymentStatus, read_statuses


def _default_status_dir() -> str:
    return str(state_dir() / "supervisor")


class PlatformStatusResource(dg.ConfigurableResource):
    """What ``tradeplat status --json`` reports: the supervisors' status files, judged now."""

    status_dir: str = ""  # default: $TRADEPLAT_STATE_DIR/supervisor

    def folder(self) -> Path:
        return Path(self.status_dir or _default_status_dir())

    def health(self) -> PlatformHealth:
        return read_health(self.folder())

    def statuses_and_health(self) -> tuple[list[DeploymentStatus], PlatformHealth]:
        """The status files and what they say of health, from one read (the two cannot disagree)."""
        statuses = read_statuses(self.folder())
        return statuses, evaluate(statuses, time.time(), pid_alive)


class DeploymentLauncherResource(dg.ConfigurableResource):
    """Launches, scales and stops deployments of stream daemons through ``ctl.deployment`` and waits
    until their supervisor has done it. ``local``: the supervisors of this machine (``tradeplat up``),
    whose status files it reads. A launcher for EC2 hosts (through AWS Systems Manager) implements
    the same :class:`DeploymentLauncher` interface."""

    kafka_bootstrap_servers: str
    status_dir: str = ""  # default: $TRADEPLAT_STATE_DIR/supervisor
    default_host: str = "local"

    def launcher(self) -> DeploymentLauncher:
        return LocalDeploymentLauncher(self.kafka_bootstrap_servers, Path(self.status_dir or _default_status_dir()))
