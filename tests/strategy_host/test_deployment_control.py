"""The hand-over state machine of ``ctl.strategy`` records, pure: which host starts, replaces, stops
or ignores a deployment for each record, whatever order the records are read in."""

from __future__ import annotations

import pytest

from platform_streams.strategy_host.deployment_control import (
    BadControlRecord,
    ControlAction,
    control_record,
    plan,
    spec_of,
)
from platform_streams.strategy_host.strategy_deployment import StrategyDeploymentSpec, TradingMode

SPEC = StrategyDeploymentSpec(
    id="quoter", strategy="steady-quoter", version="1.1.0", instruments=["binance:BTC/USDT"], account="a1",
    mode=TradingMode.LIVE, parameters={"every": 2},
)  # fmt: skip


def record(host: str, epoch: int, running: bool = True):  # type: ignore[no-untyped-def]
    return control_record(SPEC, host, epoch, running, "ops", epoch)


@pytest.mark.parametrize(
    ("host", "running_epoch", "control", "action"),
    [
        ("a", None, record("a", 1), ControlAction.START),  # a new deployment for this host
        ("b", None, record("a", 1), ControlAction.NONE),  # someone else's
        ("a", 0, record("a", 1), ControlAction.REPLACE),  # N here, N+1 here: in place
        ("a", 1, record("b", 2), ControlAction.STOP),  # N+1 runs on host b now: N is fenced here
        ("b", None, record("b", 2), ControlAction.START),  # ... and starts there
        ("a", 1, record("a", 2, running=False), ControlAction.STOP),  # stopped
        ("a", None, record("a", 2, running=False), ControlAction.NONE),
        ("a", 2, record("a", 2), ControlAction.NONE),  # applied already (the host's own record read again)
        ("a", 3, record("a", 2), ControlAction.NONE),  # older than what runs: read late, changes nothing
        ("a", 3, record("b", 2), ControlAction.NONE),
    ],
)
def test_plan(host: str, running_epoch: int | None, control, action: ControlAction) -> None:  # type: ignore[no-untyped-def]
    assert plan(host, running_epoch, control) is action


def test_two_hosts_agree_on_the_one_that_runs_the_latest_epoch_in_any_reading_order() -> None:
    records = [record("a", 1), record("b", 2), record("a", 3), record("b", 4)]
    for order in (records, records[::-1], [records[2], records[0], records[3], records[1]]):
        running: dict[str, int | None] = {"a": None, "b": None}
        for control in order:
            for host in running:
                action = plan(host, running[host], control)
                if action in (ControlAction.START, ControlAction.REPLACE):
                    running[host] = control.epoch
                elif action is ControlAction.STOP:
                    running[host] = None
        live = {host for host, epoch in running.items() if epoch == 4}
        assert live == {"b"}, order
        assert running["a"] is None or running["a"] < 4


def test_the_spec_travels_as_json_and_must_be_the_deployments_own() -> None:
    control = record("a", 5)
    assert (control.key, control.epoch, control.host, control.running) == ("quoter", 5, "a", True)
    assert spec_of(control) == SPEC
    other = control_record(StrategyDeploymentSpec(id="other", strategy="x", instruments=[], account="a"), "a", 1, True, "", 0)
    with pytest.raises(BadControlRecord, match="keyed 'quoter' carries the spec of 'other'"):
        spec_of(type(control)("quoter", 1, "a", True, other.spec, "", 0))
    with pytest.raises(BadControlRecord, match="epoch 1"):
        spec_of(type(control)("quoter", 1, "a", True, b"{not json", "", 0))
