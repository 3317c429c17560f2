"""``tradeplat simulate``: run the local exchange simulator in the foreground, or replay recorded traffic (``--replay``)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import yaml

from platform_streams.settings import ConfigError
from platform_streams.structured_logging import configure_logging


def register(sub: argparse._SubParsersAction) -> None:
    simulate = sub.add_parser("simulate", help="run the exchange simulator (real exchange protocols on 127.0.0.1)")
    simulate.add_argument("--exchanges", default="binance", help="comma-separated exchanges, e.g. binance,okx,kraken")
    simulate.add_argument("--instruments", type=int, default=1000, help="instruments per exchange")
    simulate.add_argument("--rate", type=float, default=2000.0, help="order-flow events per second over all exchanges")
    simulate.add_argument("--seed", type=int, default=7)
    simulate.add_argument("--host", default="127.0.0.1")
    simulate.add_argument(
        "--port", action="append", default=[], metavar="EXCHANGE=PORT", help="fixed port of one exchange (default: any free port)"
    )
    simulate.add_argument("--config", type=Path, help="YAML file of further SimulatorConfig fields (limits, accounts, clock...)")
    simulate.add_argument(
        "--replay",
        type=Path,
        action="append",
        default=[],
        metavar="PATH",
        help="replay recorded traffic instead of simulating: a capture file (*.jsonl[.gz]), a directory of them, or a raw archive root; repeatable",
    )
    simulate.add_argument(
        "--speed", type=float, default=1.0, help="replay pace: 1 = as recorded, 10 = ten times faster, 0 = as fast as possible"
    )
    simulate.set_defaults(run=run_simulate)


def _ports(items: list[str]) -> dict[str, int]:
    ports: dict[str, int] = {}
    for item in items:
        exchange, sep, port = item.partition("=")
        if not sep or not port.isdigit():
            raise ConfigError(f"--port {item!r} is not of the form EXCHANGE=PORT")
        ports[exchange.strip()] = int(port)
    return ports


def run_simulate(args: argparse.Namespace) -> int:
    # imported here: every other command (`tradeplat status` above all) starts without the simulator
    from platform_streams.simulator.replay import ReplayError, run_replay
    from platform_streams.simulator.server import run_simulator

    configure_logging(component="simulator")
    if args.replay:
        try:
            return run_replay(args.replay, args.speed, host=args.host, ports=_ports(args.port))
        except ReplayError as exc:
            raise ConfigError(f"cannot replay: {exc}") from None
    extra: dict[str, Any] = {}
    if args.config is not None:
        try:
            extra = yaml.safe_load(args.config.read_text()) or {}
        except FileNotFoundError:
            raise ConfigError(f"configuration file {args.config} does not exist") from None
        if not isinstance(extra, dict):
            raise ConfigError(f"configuration file {args.config} must hold a mapping")
    for key in ("exchanges", "instruments", "rate", "seed", "host"):
        extra.pop(key, None)
    exchanges = [name.strip() for name in args.exchanges.split(",") if name.strip()]
    return run_simulator(exchanges, args.instruments, args.rate, args.seed, host=args.host, ports=_ports(args.port), **extra)
