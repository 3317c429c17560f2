"""Jobs that launch, scale and stop deployments of stream daemons while the others keep running.

Each asks through the deployment launcher (``ctl.deployment``, applied by the host's supervisor),
waits until it is done — the daemons running healthy, or stopped — and records the deployment's
health on its partition of the ``stream_deployments`` asset. A request the supervisor refuses, or
one not done in time, fails the run with the reason.
"""

# No `from __future__ import annotations` here: Dagster resolves config and resource
# annotations of ops when they are defined.
import getpass
from collections.abc import Callable
from typing import Any

import dagster as dg
import msgspec

from platform_assets.resources.stream_control import DeploymentLauncherResource
from platform_assets.streams.sensor import deployments_observation
from platform_assets.streams.stream_observations import deployment_metadata
from platform_streams.embedded.paths import REPOSITORY_ROOT
from platform_streams.schemas import StreamDeploymentControl
from platform_streams.settings import ConfigError
from platform_streams.supervisor.deployment_launcher import DeploymentLauncher, DeploymentNotApplied
from platform_streams.supervisor.spec import load_spec, parse_spec

DEPLOYMENT_FILES = REPOSITORY_ROOT / "deployments"


class DaemonConfig(dg.Config):
    """One daemon of a deployment: ``replicas`` processes of ``kind`` with ``config`` (its settings)."""

    name: str
    kind: str
    replicas: int = 1
    restart: str = "on-failure"
    config: dict[str, Any] = {}


class LaunchDeploymentConfig(dg.Config):
    """A deployment to run: its daemons, or a spec file of ``deployments/`` (e.g. ``demo.yaml``)."""

    name: str
    host: str = ""  # default: the launcher's
    daemons: list[DaemonConfig] = []
    spec_file: str = ""
    timeout_s: float = 180.0


class ScaleDeploymentConfig(dg.Config):
    """Set the number of processes (for ingestion: of instrument shards) of one daemon."""

    deployment: str
    daemon: str
    replicas: int
    timeout_s: float = 180.0


class StopDeploymentConfig(dg.Config):
    deployment: str
    timeout_s: float = 120.0


def _operator(context: dg.OpExecutionContext) -> str:
    user = context.run.tags.get("user") or context.run.tags.get("dagster/user")
    return f"dagster:{user or getpass.getuser()} run {context.run_id[:8]}"


def _carry_out(
    context: dg.OpExecutionContext,
    launcher: DeploymentLauncherResource,
    timeout_s: float,
    ask: Callable[[DeploymentLauncher, str], StreamDeploymentControl],
) -> dict[str, Any]:
    """Make the request ``ask`` makes, wait until its supervisor has done it, and record every
    deployment's health on the asset (now, not at the sensor's next tick); the run fails with the
    reason when the request is not valid, is refused, or is not done in time."""
    control = launcher.launcher()
    try:
        record = ask(control, _operator(context))
    except ConfigError as exc:
        raise dg.Failure(f"not a valid request: {exc}", allow_retries=False) from None
    state = "running" if record.running else "stopped"
    context.log.info(f"requested: {record.deployment} {state} on {record.host} (revision {record.revision})")
    try:
        health = control.wait(record, timeout_s)
    except DeploymentNotApplied as exc:
        raise dg.Failure(str(exc), allow_retries=False) from None
    metadata = deployment_metadata(record.host, health)
    context.log_event(deployments_observation(control.health()))
    context.add_output_metadata(metadata)
    context.log.info(f"done: {record.deployment} {health.state}, {health.replicas_running}/{health.replicas} processes running")
    return metadata


@dg.op
def launch_stream_deployment(
    context: dg.OpExecutionContext, config: LaunchDeploymentConfig, launcher: DeploymentLauncherResource
) -> dict[str, Any]:
    """Run a deployment beside the others (one of the same name is replaced: only changed daemons restart)."""
    if bool(config.daemons) == bool(config.spec_file):
        raise dg.Failure("give the deployment's `daemons` or a `spec_file`, not both or neither", allow_retries=False)

    def launch(control: DeploymentLauncher, operator: str) -> StreamDeploymentControl:
        if config.spec_file:
            spec = load_spec(DEPLOYMENT_FILES / config.spec_file)
            spec = parse_spec({**msgspec.to_builtins(spec), "name": config.name})
        else:
            spec = parse_spec({"name": config.name, "daemons": [d.model_dump() for d in config.daemons]})
        return control.launch(spec, config.host or launcher.default_host, operator)

    return _carry_out(context, launcher, config.timeout_s, launch)


@dg.op
def scale_stream_deployment(
    context: dg.OpExecutionContext, config: ScaleDeploymentConfig, launcher: DeploymentLauncherResource
) -> dict[str, Any]:
    """Set one daemon's process count; the deployment's other daemons, and other deployments, run on."""
    return _carry_out(
        context,
        launcher,
        config.timeout_s,
        lambda control, op: control.scale(config.deployment, config.daemon, config.replicas, op),
    )


@dg.op
def stop_stream_deployment(
    context: dg.OpExecutionContext, config: StopDeploymentConfig, launcher: DeploymentLauncherResource
) -> dict[str, Any]:
    """Stop a deployment's daemons; the others keep running."""
    return _carry_out(context, launcher, config.timeout_s, lambda control, op: control.stop(config.deployment, op))


@dg.job(description="Launch a deployment of stream daemons (or replace one of the same name) while the others keep running.")
def launch_deployment() -> None:
    launch_stream_deployment()


@dg.job(description="Scale one daemon of a running deployment: its processes, or an ingestion daemon's instrument shards.")
def scale_deployment() -> None:
    scale_stream_deployment()


@dg.job(description="Stop a deployment of stream daemons; the other deployments keep running.")
def stop_deployment() -> None:
    stop_stream_deployment()


STREAM_DEPLOYMENT_JOBS = [launch_deployment, scale_deployment, stop_deployment]
