"""The kill switch at execution, the last gate before the exchange.

Risk stops deciding orders once it reads a halt on ``ctl.risk``; execution reads the same halts
and makes them hold at the exchange too: a request not yet sent when its halt is known is refused
(rejected with the halt's reason, never sent — an order decided just before the halt included),
and the orders resting at the exchange in a halted scope are cancelled.
"""

from __future__ import annotations

import logging

from platform_streams.risk.kill_switch import KillSwitchError, KillSwitches
from platform_streams.schemas import OrderRequest, RiskControl

log = logging.getLogger(__name__)


class OrderHalts:
    """The halts in force, as they apply to single orders."""

    def __init__(self) -> None:
        self._switches = KillSwitches()

    def apply(self, records: list[RiskControl | None]) -> bool:
        """Fold ``ctl.risk`` records in; whether any halt was set (resting orders may need cancelling)."""
        halted = False
        for control in records:
            if control is None:
                continue  # a tombstone: which scope it released is unknown (kill_switch's docstring)
            try:
                self._switches.apply(control)
            except KillSwitchError as error:
                log.warning("kill switch record ignored", extra={"scope": control.scope, "error": str(error)})
                continue
            halted |= control.halted and control.scope in self._switches.halted
        return halted

    def refusal(self, request: OrderRequest) -> str | None:
        """Why ``request`` must not reach the exchange now, or None when no halt covers it."""
        control = self._switches.covering(request.account, request.deployment, request.strategy)
        if control is None:
            return None
        return f"kill switch {control.scope}: {control.reason}" if control.reason else f"kill switch {control.scope}"

    def halts(self, request: OrderRequest) -> bool:
        return self.refusal(request) is not None
