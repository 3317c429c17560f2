"""``tradeplat kill-switch``: halt (or release) new orders for a scope, through ``ctl.risk``."""

from __future__ import annotations

import argparse
import getpass
import time

from confluent_kafka import Producer

from platform_streams.cli.environment import required_env
from platform_streams.kafka_clients import ProducerProfile, producer_settings
from platform_streams.risk.kill_switch import KillSwitchError, validate_scope
from platform_streams.schemas import RiskControl, encode
from platform_streams.settings import ConfigError
from platform_streams.topics import RISK_CONTROL_TOPIC


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "kill-switch",
        help="halt new orders for a scope (global, account:NAME, deployment:NAME, strategy:NAME); --release lifts it",
    )
    parser.add_argument("scope", help="global | account:NAME | deployment:NAME | strategy:NAME")
    parser.add_argument("--release", action="store_true", help="lift the halt instead of setting it")
    parser.add_argument("--reason", default="", help="why, for the rejections' detail and the logs")
    parser.set_defaults(run=run_kill_switch)


def control_record(scope: str, release: bool, reason: str, operator: str, ts_ns: int) -> RiskControl:
    try:
        validate_scope(scope)
    except KillSwitchError as exc:
        raise ConfigError(str(exc)) from None
    return RiskControl(scope=scope, halted=not release, reason=reason, operator=operator, ts_ns=ts_ns)


def run_kill_switch(args: argparse.Namespace) -> int:
    servers = required_env("KAFKA_BOOTSTRAP_SERVERS")
    control = control_record(args.scope, args.release, args.reason, getpass.getuser(), time.time_ns())
    producer = Producer(producer_settings(servers, ProducerProfile.LATENCY))
    producer.produce(RISK_CONTROL_TOPIC, encode(control), control.key)
    if producer.flush(30):
        raise ConfigError(f"the broker at {servers} did not acknowledge the kill switch within 30 s")
    print(f"{'released' if args.release else 'halted'}: {control.scope}")
    return 0
