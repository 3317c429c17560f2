"""The driver: each event type to its callback, the clock set from the event, fills into positions
(rescaled to the instrument's size scale) before on_fill, timers on event time."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
import pytest

from platform_streams.schemas import BestBidOffer, Candle, Fill, IndicatorValue, Side, Trade
from strategies.context import StrategyContext
from strategies.intents import NO_INTENTS, Intent
from strategies.strategy import Strategy
from tests.strategies.market import SECOND, START_NS, bbo, candle, driver_for, fill, instrument, trade


class Calls(msgspec.Struct):
    seen: list[str] = msgspec.field(default_factory=list)


class Recorder(Strategy):
    name = "recorder"
    version = "1"
    state_type = Calls

    def __init__(self, context: StrategyContext) -> None:
        super().__init__(context)
        self.calls = Calls()

    def state(self) -> Calls:
        return self.calls

    def load_state(self, state: Calls) -> None:
        self.calls = state

    def _saw(self, what: str) -> Sequence[Intent]:
        self.calls.seen.append(f"{what} at {(self.context.now_ns - START_NS) // SECOND}")
        return NO_INTENTS

    def on_trade(self, trade: Trade) -> Sequence[Intent]:
        return self._saw("trade")

    def on_book(self, top: BestBidOffer) -> Sequence[Intent]:
        return self._saw("book")

    def on_bar(self, candle: Candle) -> Sequence[Intent]:
        return self._saw("bar")

    def on_indicator(self, value: IndicatorValue) -> Sequence[Intent]:
        return self._saw(f"{value.indicator}={value.value}")

    def on_fill(self, fill: Fill) -> Sequence[Intent]:
        return self._saw(f"fill, position {self.context.position('binance:BTC/USDT')}")

    def on_timer(self, now_ns: int) -> Sequence[Intent]:
        return self._saw("timer")


def indicator(value: int, i: int) -> IndicatorValue:
    ts = START_NS + i * SECOND
    return IndicatorValue("binance", "BTC/USDT", ts, ts, i, "ema", "period=20", 60, value, 2)


def test_each_event_reaches_its_callback_with_the_event_clock_and_timers_between() -> None:
    driver = driver_for(Recorder, {}, [instrument(size_scale=3)], timer_s=5)
    for event in (
        trade(100_00, 1, 1),
        bbo(100_00, 100_10, 4),
        indicator(123, 6),
        candle(100_00, 0),  # a bar at its open time (0 s): the clock is the event's, even going back
        fill(Side.SELL, 100_00, 2_000, 12),  # 0.2 at 4 decimals: 200 at the instrument's 3
        fill(Side.BUY, 100_00, 500_0, 13),
    ):
        driver.on_event(event)
    assert driver.strategy.calls.seen == [
        "trade at 1",
        "book at 4",
        "timer at 5",
        "ema=123 at 6",
        "bar at 0",
        "timer at 10",
        "fill, position -200 at 12",
        "fill, position 300 at 13",
    ]


def test_a_strategy_without_its_state_methods_cannot_be_built() -> None:
    class Stateless(Strategy):
        name = "stateless"
        version = "1"
        state_type = Calls

    with pytest.raises(TypeError, match="load_state, state"):
        driver_for(Stateless, {}, [instrument()])
