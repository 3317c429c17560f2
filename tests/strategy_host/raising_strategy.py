"""A strategy for host tests that raises on its ``fail_on``-th trade (a bug in a strategy)."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from platform_streams.schemas import Trade
from strategies.intents import Intent, TargetPosition
from strategies.parameters import IntParameter
from strategies.strategy import Strategy


class Count(msgspec.Struct):
    trades: int = 0


class RaisingStrategy(Strategy):
    """Wants a position equal to the number of trades seen, until it raises on trade ``fail_on``."""

    name = "raising"
    version = "1"
    state_type = Count
    parameters = {"fail_on": IntParameter(3, minimum=1, doc="the trade it raises on")}

    def __init__(self, context) -> None:  # type: ignore[no-untyped-def]
        super().__init__(context)
        self.count = Count()

    def on_trade(self, trade: Trade) -> Sequence[Intent]:
        self.count.trades += 1
        if self.count.trades == self.params.fail_on:
            raise ZeroDivisionError("a bug in the strategy")
        return [TargetPosition(trade.key, self.count.trades)]

    def state(self) -> Count:
        return self.count

    def load_state(self, state: Count) -> None:
        self.count = state
