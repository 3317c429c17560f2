"""``tradeplat strategy deploy|stop|list``: the strategy deployments desired at run time, as records
of the compacted ``ctl.strategy`` topic (each a deployment's host, spec and next fencing epoch)."""

from __future__ import annotations

import argparse
import getpass
import json
import time
from pathlib import Path

import msgspec
from confluent_kafka import Producer

from platform_streams.cli.environment import required_env
from platform_streams.kafka_clients import ProducerProfile, producer_settings
from platform_streams.schemas import EventDecodeError, StrategyDeploymentControl, TypedDecoder, encode
from platform_streams.settings import ConfigError, load_settings
from platform_streams.strategy_host.deployment_control import BadControlRecord, control_record, spec_of
from platform_streams.strategy_host.strategy_deployment import StrategyDeploymentSpec
from platform_streams.topic_reading import latest_values
from platform_streams.topics import STRATEGY_CONTROL_TOPIC

_records = TypedDecoder(StrategyDeploymentControl)


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


def latest_records(
    servers: str, topic: str = STRATEGY_CONTROL_TOPIC, timeout_s: float = 30.0
) -> dict[str, StrategyDeploymentControl]:
    """Each deployment's latest record, read from the start of ``topic`` to its end as of now."""
    latest: dict[str, StrategyDeploymentControl] = {}
    for value in latest_values(servers, topic, timeout_s).values():
        try:
            record = _records.decode(value) if value else None
        except EventDecodeError:
            continue  # not ours to judge here: hosts and risk skip it too
        if record is not None and record.epoch >= latest.get(record.deployment, record).epoch:
            latest[record.deployment] = record
    return latest


def _write(servers: str, record: StrategyDeploymentControl) -> None:
    producer = Producer(producer_settings(servers, ProducerProfile.LATENCY))
    producer.produce(STRATEGY_CONTROL_TOPIC, encode(record), record.key)
    if producer.flush(30):
        raise ConfigError(f"the broker at {servers} did not acknowledge the ctl.strategy record within 30 s")


def run_deploy(args: argparse.Namespace) -> int:
    spec = load_settings(StrategyDeploymentSpec, yaml_path=args.spec, env={})
    servers = _servers()
    current = latest_records(servers).get(spec.id)
    epoch = 1 if current is None else current.epoch + 1
    _write(servers, control_record(spec, args.host, epoch, True, getpass.getuser(), time.time_ns()))
    replaced = "" if current is None or not current.running else f" (replaces epoch {current.epoch} on {current.host})"
    print(f"deployed: {spec.id} epoch {epoch} on {args.host}{replaced}")
    return 0


def run_stop(args: argparse.Namespace) -> int:
    servers = _servers()
    current = latest_records(servers).get(args.deployment)
    if current is None:
        raise ConfigError(f"no deployment {args.deployment!r} in {STRATEGY_CONTROL_TOPIC}")
    stopped = msgspec.structs.replace(
        current, epoch=current.epoch + 1, running=False, operator=getpass.getuser(), ts_ns=time.time_ns()
    )
    _write(servers, stopped)
    print(f"stopped: {args.deployment} epoch {stopped.epoch}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    for deployment, record in sorted(latest_records(_servers()).items()):
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
