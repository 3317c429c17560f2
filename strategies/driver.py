"""Drives one strategy: hands each canonical event to the right callback, keeps the context's clock
and positions, and fires timers on the event clock. The backtest runner and the strategy host both
drive strategies through this one class, so a strategy sees the same calls in the same order in
backtest, paper and live."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from platform_streams.schemas import BestBidOffer, Candle, Fill, IndicatorValue, Side, Trade
from platform_streams.schemas.fixed_point import rescale
from strategies.context import StrategyContext
from strategies.intents import NO_INTENTS, Intent
from strategies.strategy import Strategy

MarketEvent = Trade | BestBidOffer | Candle | IndicatorValue


class StrategyDriver:
    """One strategy with its context; :meth:`on_event` returns the intents an event caused.

    Timers run on event time: before an event at or past the next timer boundary, ``on_timer``
    is called once with that boundary (missed boundaries are not replayed one by one)."""

    __slots__ = ("strategy", "context", "timer_interval_ns", "_next_timer_ns", "_callbacks")

    def __init__(self, strategy: Strategy, timer_interval_ns: int = 0) -> None:
        self.strategy = strategy
        self.context: StrategyContext = strategy.context
        self.timer_interval_ns = timer_interval_ns
        self._next_timer_ns = 0
        self._callbacks: dict[type, Callable[[object], Sequence[Intent]]] = {
            Trade: strategy.on_trade,  # type: ignore[dict-item]
            BestBidOffer: strategy.on_book,  # type: ignore[dict-item]
            Candle: strategy.on_bar,  # type: ignore[dict-item]
            IndicatorValue: strategy.on_indicator,  # type: ignore[dict-item]
        }

    def on_event(self, event: MarketEvent | Fill) -> Sequence[Intent]:
        now_ns = event.receive_ts_ns
        intents = self._timers(now_ns) if self.timer_interval_ns else NO_INTENTS
        self.context.now_ns = now_ns
        if type(event) is Fill:
            caused = self._fill(event)
        else:
            caused = self._callbacks[type(event)](event)
        if intents:
            return [*intents, *caused]
        return caused

    def _timers(self, now_ns: int) -> Sequence[Intent]:
        if self._next_timer_ns == 0:
            self._next_timer_ns = now_ns - now_ns % self.timer_interval_ns + self.timer_interval_ns
            return NO_INTENTS
        if now_ns < self._next_timer_ns:
            return NO_INTENTS
        boundary = now_ns - now_ns % self.timer_interval_ns
        self._next_timer_ns = boundary + self.timer_interval_ns
        self.context.now_ns = boundary
        return self.strategy.on_timer(boundary)

    def _fill(self, fill: Fill) -> Sequence[Intent]:
        key = f"{fill.exchange}:{fill.symbol}"
        size = fill.size
        try:
            size_scale = self.context.instrument(key).size_scale
        except KeyError:
            size_scale = fill.size_scale
        if fill.size_scale != size_scale:
            size = rescale(size, fill.size_scale, size_scale)
        self.context.add_to_position(key, size if fill.side is Side.BUY else -size)
        return self.strategy.on_fill(fill)
