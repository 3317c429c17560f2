"""``tradeplat deployment launch|scale|stop|list``: deployments of stream daemons changed while the
platform runs (records of the compacted ``ctl.deployment``, applied by the host's supervisor)."""

from __future__ import annotations

import argparse
import getpass
import json
import os
from pathlib import Path

import msgspec

from platform_streams.cli.environment import required_env
from platform_streams.embedded.paths import state_dir
from platform_streams.supervisor.deployment_launcher import DeploymentNotApplied, LocalDeploymentLauncher
from platform_streams.supervisor.deployment_requests import latest_requests
from platform_streams.supervisor.health import StreamDeploymentHealth
from platform_streams.supervisor.spec import load_spec


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("deployment", help="launch, scale, stop and list deployments of stream daemons at run time")
    commands = parser.add_subparsers(dest="deployment_command", required=True)
    launch = commands.add_parser(
        "launch", help="run a deployment spec (YAML) beside the others; one of the same name is replaced"
    )
    launch.add_argument("spec", type=Path)
    launch.add_argument("--host", default=os.environ.get("TRADEPLAT_HOST", "local"), help="the supervisor's host (default local)")
    scale = commands.add_parser("scale", help="set the number of processes (or ingestion shards) of one daemon of a deployment")
    scale.add_argument("deployment")
    scale.add_argument("daemon")
    scale.add_argument("replicas", type=int)
    stop = commands.add_parser("stop", help="stop a deployment's daemons; the others keep running")
    stop.add_argument("deployment")
    for command in (launch, scale, stop):
        command.add_argument("--timeout", type=float, default=120.0, help="seconds to wait until it is done (0: do not wait)")
        command.set_defaults(run=run_change)
    listing = commands.add_parser("list", help="the requests ctl.deployment holds")
    listing.add_argument("--json", action="store_true", help="one JSON object per deployment")
    listing.set_defaults(run=run_list)


def _servers() -> str:
    return required_env("KAFKA_BOOTSTRAP_SERVERS")


def run_change(args: argparse.Namespace) -> int:
    launcher = LocalDeploymentLauncher(_servers(), state_dir() / "supervisor")
    operator = getpass.getuser()
    if args.deployment_command == "launch":
        record = launcher.launch(load_spec(args.spec), args.host, operator)
    elif args.deployment_command == "scale":
        record = launcher.scale(args.deployment, args.daemon, args.replicas, operator)
    else:
        record = launcher.stop(args.deployment, operator)
    print(
        f"requested: {record.deployment} {'running' if record.running else 'stopped'} on {record.host} (revision {record.revision})"
    )
    if args.timeout <= 0:
        return 0
    try:
        health = launcher.wait(record, args.timeout)
    except DeploymentNotApplied as exc:
        print(f"not done: {exc}")
        return 1
    print(f"done: {_describe(health)}")
    return 0


def _describe(health: StreamDeploymentHealth) -> str:
    return f"{health.name} {health.state}, {health.replicas_running}/{health.replicas} processes running"


def run_list(args: argparse.Namespace) -> int:
    for name, record in sorted(latest_requests(_servers()).items()):
        row = {
            "deployment": name,
            "host": record.host,
            "state": "running" if record.running else "stopped",
            "revision": record.revision,
            "operator": record.operator,
            "daemons": [d["name"] for d in msgspec.json.decode(record.spec)["daemons"]] if record.running else [],
        }
        print(json.dumps(row) if args.json else "  ".join(f"{k}={v}" for k, v in row.items()))
    return 0
