"""``tradeplat kill-switch``: halt (or release) new orders for a scope, through ``ctl.risk``."""

from __future__ import annotations

import argparse
import getpass

from platform_streams.cli.environment import required_env
from platform_streams.risk.risk_control_topic import write_control


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "kill-switch",
        help="halt new orders for a scope (global, account:NAME, deployment:NAME, strategy:NAME); --release lifts it",
    )
    parser.add_argument("scope", help="global | account:NAME | deployment:NAME | strategy:NAME")
    parser.add_argument("--release", action="store_true", help="lift the halt instead of setting it")
    parser.add_argument("--reason", default="", help="why, for the rejections' detail and the logs")
    parser.set_defaults(run=run_kill_switch)


def run_kill_switch(args: argparse.Namespace) -> int:
    servers = required_env("KAFKA_BOOTSTRAP_SERVERS")
    control = write_control(servers, args.scope, args.release, args.reason, getpass.getuser())
    print(f"{'released' if args.release else 'halted'}: {control.scope}")
    return 0
