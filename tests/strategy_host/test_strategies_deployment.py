"""The shipped strategy deployment spec is valid: the supervisor accepts it and the host builds
every strategy deployment in it without refusing one."""

from __future__ import annotations

from pathlib import Path

import msgspec

from platform_streams.strategy_host.daemon import StrategyHostSettings
from platform_streams.strategy_host.fanout import DeploymentFanout
from platform_streams.strategy_host.hosted_deployment import build_deployment
from platform_streams.supervisor.spec import load_spec


def test_the_strategies_deployment_builds_every_strategy(repo_root: Path) -> None:
    spec = load_spec(repo_root / "deployments" / "strategies.yaml")
    hosts = [daemon for daemon in spec.daemons if daemon.kind == "strategy-host"]
    assert hosts
    fanout = DeploymentFanout()
    for host in hosts:
        settings = msgspec.convert({"name": host.name, **host.config}, StrategyHostSettings)
        for deployment in settings.deployments:
            fanout.add(build_deployment(deployment, {}))
    assert {d.driver.strategy.name for d in fanout.deployments.values()} == {
        "ema-crossover", "mean-reversion", "cross-exchange-arbitrage", "inventory-market-maker",
    }  # fmt: skip
