"""Jobs that start, hot-deploy, move and stop strategy deployments on the running strategy hosts
(``ctl.strategy``): the strategies' side of scaling — more deployments, or deployments spread over
more hosts — without restarting anything. A deploy waits until the host confirms the new epoch
(its snapshot of the deployment); a spec the strategy refuses fails the run before anything is written."""

# No `from __future__ import annotations` here: Dagster resolves config and resource annotations when defined.
import getpass
from typing import Any

import dagster as dg
import msgspec

from platform_assets.resources.platform_servers import KafkaResource
from platform_streams.strategy_host import strategy_control
from platform_streams.strategy_host.strategy_deployment import StrategyDeploymentSpec
from strategies.catalog import UnknownStrategy, strategy_class


class DeployStrategyConfig(dg.Config):
    """A strategy deployment (the fields of a host's ``deployments`` entry) and the ``host`` to run
    it on; an ``id`` that runs already is replaced (hot deploy), on this host or moved to it."""

    id: str
    strategy: str
    version: str = ""
    instruments: list[str]
    account: str
    mode: str = "paper"
    parameters: dict[str, Any] = {}
    timer_interval_s: float = 0.0
    host: str = "strategy-host"
    confirm_timeout_s: float = 120.0


class StopStrategyConfig(dg.Config):
    id: str


def run_operator(context: dg.OpExecutionContext) -> str:
    """Who asked: the run's ``user`` tag, else the Dagster process's user."""
    return context.run.tags.get("user", "") or getpass.getuser()


@dg.op(description="Start or hot-deploy a strategy deployment on a host; wait for the host to run its new epoch.")
def deploy_strategy_deployment(context: dg.OpExecutionContext, config: DeployStrategyConfig, kafka: KafkaResource) -> int:
    fields = config.model_dump()
    host, timeout_s = fields.pop("host"), fields.pop("confirm_timeout_s")
    try:
        spec = msgspec.convert(fields, StrategyDeploymentSpec)
        kind = strategy_class(spec.strategy)
        if spec.version and spec.version != kind.version:
            raise ValueError(f"{spec.strategy} is at version {kind.version}, not {spec.version}")
        kind.check_instruments(spec.instruments)
        kind.validate(spec.parameters)
    except (msgspec.ValidationError, UnknownStrategy, ValueError) as error:
        raise dg.Failure(f"refused: {error}", allow_retries=False) from None
    record, before = strategy_control.deploy(kafka.bootstrap_servers, spec, host, run_operator(context))
    try:
        strategy_control.wait_until_running(kafka.bootstrap_servers, spec.id, record.epoch, timeout_s)
    except strategy_control.NotConfirmed as error:
        raise dg.Failure(str(error), allow_retries=False) from None
    action = "started" if before is None or not before.running else f"replaced epoch {before.epoch} on {before.host}"
    context.log.info(f"{spec.id}: epoch {record.epoch} runs on {host} ({action})")
    context.add_output_metadata({"deployment": spec.id, "epoch": record.epoch, "host": host, "action": action})
    return record.epoch


@dg.op(description="Stop a strategy deployment: its host stops it and risk refuses its intents.")
def stop_strategy_deployment(context: dg.OpExecutionContext, config: StopStrategyConfig, kafka: KafkaResource) -> int:
    try:
        stopped = strategy_control.stop(kafka.bootstrap_servers, config.id, run_operator(context))
    except ValueError as error:  # ConfigError: no such deployment in ctl.strategy
        raise dg.Failure(str(error), allow_retries=False) from None
    context.add_output_metadata({"deployment": config.id, "epoch": stopped.epoch})
    return stopped.epoch


@dg.job(description="Start, hot-deploy or move a strategy deployment on a running strategy host.")
def deploy_strategy() -> None:
    deploy_strategy_deployment()


@dg.job(description="Stop a strategy deployment on its host.")
def stop_strategy() -> None:
    stop_strategy_deployment()


STRATEGY_DEPLOYMENT_JOBS = [deploy_strategy, stop_strategy]
