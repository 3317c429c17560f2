"""Epoch fencing of strategy deployments: risk, the one place every intent passes, lets through only
the intents of a deployment's current epoch (from ``ctl.strategy``), so while version N+1 takes
over from N — even on another host, even if N has not noticed yet — only one of them can trade.

A deployment no ``ctl.strategy`` record names (one declared only in a host's YAML) runs at epoch 0
and is not fenced. An intent of an older epoch is refused with rule ``fenced``; one of a newer
epoch than risk has read means the control record is still on its way, so the intent waits for
the side inputs (:class:`EpochNotYetKnown`) and is refused only if the record never comes.
"""

from __future__ import annotations

from platform_streams.schemas import StrategyDeploymentControl, StrategyIntent

FENCED_RULE = "fenced"


class EpochNotYetKnown(LookupError):
    """An intent names an epoch newer than the deployment's latest control record read so far."""


class DeploymentEpochs:
    """The current epoch and run state of every deployment ``ctl.strategy`` governs."""

    def __init__(self) -> None:
        self._current: dict[str, StrategyDeploymentControl] = {}

    def apply(self, control: StrategyDeploymentControl) -> None:
        """Take a control record; an older epoch read late changes nothing (epochs only grow)."""
        known = self._current.get(control.deployment)
        if known is None or control.epoch >= known.epoch:
            self._current[control.deployment] = control

    def current(self, deployment: str) -> StrategyDeploymentControl | None:
        return self._current.get(deployment)

    def refusal(self, intent: StrategyIntent, deployment: str) -> str | None:
        """Why ``intent`` of ``deployment`` may not trade (None: it may). Raises
        :class:`EpochNotYetKnown` for an epoch newer than the one read so far."""
        control = self._current.get(deployment)
        if control is None:
            if intent.epoch == 0:
                return None
            raise EpochNotYetKnown(f"deployment {deployment} at epoch {intent.epoch}: no ctl.strategy record read yet")
        if intent.epoch > control.epoch:
            raise EpochNotYetKnown(
                f"deployment {deployment} at epoch {intent.epoch}: the latest ctl.strategy record read is epoch {control.epoch}"
            )
        if intent.epoch < control.epoch:
            return (
                f"epoch {intent.epoch} of deployment {deployment} is fenced: "
                f"epoch {control.epoch} runs on host {control.host or '?'}"
            )
        if not control.running:
            return f"deployment {deployment} is stopped (epoch {control.epoch})"
        return None
