"""What a host does with a ``ctl.strategy`` record (the hand-over state machine, pure): start a
deployment it is now to run, replace its running version by the record's (a higher epoch), stop one
that runs elsewhere or not at all now (fenced), or nothing (a record it has applied, or an older one).

Epochs only grow, so a record is applied at most once per host and a stale record changes nothing;
two hosts reading the same records in any order reach the same conclusion about who runs what.
"""

from __future__ import annotations

import enum

import msgspec

from platform_streams.schemas import StrategyDeploymentControl
from platform_streams.strategy_host.strategy_deployment import StrategyDeploymentSpec


class ControlAction(enum.Enum):
    START = "start"  # not running here: build it, restore the deployment's latest state, catch up hidden, go live
    REPLACE = "replace"  # running here at an older epoch: the new version takes over the old one's state at once
    STOP = "stop"  # running here at an older epoch, but the record says elsewhere or stopped: fenced
    NONE = "none"


class BadControlRecord(ValueError):
    """A ``ctl.strategy`` record whose spec does not parse or names another deployment."""


def plan(host: str, running_epoch: int | None, control: StrategyDeploymentControl) -> ControlAction:
    """The action of ``host``, which runs the record's deployment at ``running_epoch`` (None: not at all)."""
    ours = control.running and control.host == host
    if running_epoch is None:
        return ControlAction.START if ours else ControlAction.NONE
    if control.epoch <= running_epoch:
        return ControlAction.NONE  # applied already, or older than what runs
    return ControlAction.REPLACE if ours else ControlAction.STOP


def spec_of(control: StrategyDeploymentControl) -> StrategyDeploymentSpec:
    """The deployment spec a record carries (JSON)."""
    try:
        spec = msgspec.json.decode(control.spec, type=StrategyDeploymentSpec)
    except msgspec.DecodeError as error:
        raise BadControlRecord(f"ctl.strategy record of {control.deployment!r} epoch {control.epoch}: {error}") from None
    if spec.id != control.deployment:
        raise BadControlRecord(f"ctl.strategy record keyed {control.deployment!r} carries the spec of {spec.id!r}")
    return spec


def control_record(
    spec: StrategyDeploymentSpec, host: str, epoch: int, running: bool, operator: str, ts_ns: int
) -> StrategyDeploymentControl:
    """The record that deploys ``spec`` on ``host`` at ``epoch`` (``running=False``: stops it)."""
    return StrategyDeploymentControl(
        deployment=spec.id,
        epoch=epoch,
        host=host,
        running=running,
        spec=msgspec.json.encode(spec),
        operator=operator,
        ts_ns=ts_ns,
    )
