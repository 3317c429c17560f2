"""Strategies with bugs, for host tests: one raises on a trade, one wants an instrument not its own,
one cannot give its state."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from platform_streams.schemas import Trade
from strategies.context import StrategyContext
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

    def __init__(self, context: StrategyContext) -> None:
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


class StrayIntentStrategy(RaisingStrategy):
    """Wants a position in an instrument that is not its deployment's (on its second trade)."""

    name = "stray"

    def on_trade(self, trade: Trade) -> Sequence[Intent]:
        self.count.trades += 1
        return [TargetPosition("binance:DOGE/USDT" if self.count.trades == 2 else trade.key, 1)]


class StatelessStrategy(RaisingStrategy):
    """Cannot give its state (a bug that shows only when the host snapshots)."""

    name = "stateless"

    def state(self) -> Count:
        raise RuntimeError("no state today")
