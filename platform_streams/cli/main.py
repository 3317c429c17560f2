"""``tradeplat``: run the platform, its daemons and its admin tasks.

tradeplat up [--deployment FILE]     embedded stack + deployment, in the foreground
tradeplat down                       stop what `up` started
tradeplat status [--json]            state, restarts, lag and heartbeats of each daemon
tradeplat daemon KIND [options]      run one daemon (what the supervisor runs)
tradeplat supervise FILE             run a deployment against the configured servers
tradeplat topics                     create the registry's topics
tradeplat migrate                    apply database migrations
tradeplat simulate [--exchanges ...] run the exchange simulator in the foreground
tradeplat replay --exchange NAME     replay the raw archive into md.raw
tradeplat kill-switch SCOPE          halt new orders for a scope (--release lifts it)
tradeplat strategy deploy|stop|list  strategy deployments at run time, hot deploy (ctl.strategy)
tradeplat deployment launch|scale|stop|list  deployments of stream daemons at run time (ctl.deployment)
"""

from __future__ import annotations

import argparse
import os
import sys

from platform_streams.cli import (
    commands_admin,
    commands_daemon,
    commands_deployment,
    commands_replay,
    commands_risk,
    commands_simulator,
    commands_stack,
    commands_strategy,
)
from platform_streams.settings import ConfigError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tradeplat", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    commands_stack.register(sub)
    commands_daemon.register(sub)
    commands_admin.register(sub)
    commands_simulator.register(sub)
    commands_replay.register(sub)
    commands_risk.register(sub)
    commands_strategy.register(sub)
    commands_deployment.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except ConfigError as exc:
        print(f"tradeplat: configuration error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `tradeplat status | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when Python flushes stdout
        return 141


if __name__ == "__main__":
    sys.exit(main())
