"""``tradeplat strategy deploy|stop|list``: the strategy deployments desired at run time, as records
of the compacted ``ctl.strategy`` topic (each a deployment's host, spec and next fencing epoch)."""

from __future__ import annotations

import argparse
import getpass
import json
from pathlib import Path

from platform_streams.cli.environment import required_env
from platform_streams.settings import load_settings
from platform_streams.strategy_host import strategy_control
from platform_streams.strategy_host.deployment_control import BadControlRecord, spec_of
from platform_streams.strategy_host.strategy_deployment import StrategyDeploymentSpec


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("strategy", help="deploy, hot-deploy, stop and list strategy deployments at run time (ctl.strategy)")
    commands = parser.add_subparsers(dest="strategy_command", required=True)
    deploy = commands.add_parser(
        "deploy", help="run a deployment spec (YAML) on a host; a running deployment of the same id is replaced (hot deploy)"
    )
    deploy.add_argument("spec", type=Path, help="a YAML mapping: id, strategy, version, instruments, account, mode, parameters")
    deploy.add_argument("--host", required=True, help="the strategy host (its daemon name) that runs it")
    deploy.set_defaults(run=run_deploy)
    stop = commands.add_parser("stop", help="stop a deployment (its host stops it; risk refuses its intents)")
    stop.add_argument("deployment")
    stop.set_defaults(run=run_stop)
    listing = commands.add_parser("list", help="the deployments ctl.strategy governs: epoch, host, strategy and version")
    listing.add_argument("--json", action="store_true", help="one JSON object per deployment")
    listing.set_defaults(run=run_list)


def _servers() -> str:
    return required_env("KAFKA_BOOTSTRAP_SERVERS")


def run_deploy(args: argparse.Namespace) -> int:
    spec = load_settings(StrategyDeploymentSpec, yaml_path=args.spec, env={})
    record, current = strategy_control.deploy(_servers(), spec, args.host, getpass.getuser())
    replaced = "" if current is None or not current.running else f" (replaces epoch {current.epoch} on {current.host})"
    print(f"deployed: {spec.id} epoch {record.epoch} on {args.host}{replaced}")
    return 0


def run_stop(args: argparse.Namespace) -> int:
    stopped = strategy_control.stop(_servers(), args.deployment, getpass.getuser())
    print(f"stopped: {args.deployment} epoch {stopped.epoch}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    for deployment, record in sorted(strategy_control.latest_records(_servers()).items()):
        try:
            spec = spec_of(record)
            strategy, version = spec.strategy, spec.version or "-"
        except BadControlRecord:
            strategy, version = "?", "?"
        state = "running" if record.running else "stopped"
        row = {
            "deployment": deployment,
            "epoch": record.epoch,
            "host": record.host,
            "state": state,
            "strategy": strategy,
            "version": version,
        }
        print(json.dumps(row) if args.json else "  ".join(f"{k}={v}" for k, v in row.items()))
    return 0
