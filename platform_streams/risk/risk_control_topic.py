"""Kill switches as records of ``ctl.risk``: a halt (or its release) of a scope — ``global``,
``account:NAME``, ``strategy:NAME`` or ``deployment:NAME`` — written by ``tradeplat kill-switch``
and by the promotion pipeline when a paper trial ends (execution then cancels its resting orders)."""

from __future__ import annotations

import time

from confluent_kafka import Producer

from platform_streams.kafka_clients import ProducerProfile, producer_settings
from platform_streams.risk.kill_switch import KillSwitchError, validate_scope
from platform_streams.schemas import RiskControl, encode
from platform_streams.settings import ConfigError
from platform_streams.topics import RISK_CONTROL_TOPIC


def control_record(scope: str, release: bool, reason: str, operator: str, ts_ns: int) -> RiskControl:
    try:
        validate_scope(scope)
    except KillSwitchError as exc:
        raise ConfigError(str(exc)) from None
    return RiskControl(scope=scope, halted=not release, reason=reason, operator=operator, ts_ns=ts_ns)


def write_control(servers: str, scope: str, release: bool, reason: str, operator: str) -> RiskControl:
    """Halt (or release) ``scope`` now; raises if the broker does not acknowledge it in 30 s."""
    control = control_record(scope, release, reason, operator, time.time_ns())
    producer = Producer(producer_settings(servers, ProducerProfile.LATENCY))
    producer.produce(RISK_CONTROL_TOPIC, encode(control), control.key)
    if producer.flush(30):
        raise ConfigError(f"the broker at {servers} did not acknowledge the kill switch within 30 s")
    return control
