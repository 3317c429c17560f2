"""EMA-crossover momentum: long while the fast EMA of closing prices is above the slow one, short
(or flat) while it is below; one target position per crossing, per instrument."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from platform_streams.schemas import Candle
from strategies.context import StrategyContext
from strategies.incremental_statistics import ExponentialAverage
from strategies.instrument_rules import size_in_lots
from strategies.intents import NO_INTENTS, Intent, TargetPosition
from strategies.parameters import BoolParameter, DecimalParameter, IntParameter, ParameterError, ParameterValues
from strategies.strategy import Strategy


class InstrumentTrend(msgspec.Struct):
    """One instrument's two averages and the side it last went (+1 long, -1 short, 0 none yet)."""

    fast: ExponentialAverage
    slow: ExponentialAverage
    signal: int = 0


class EmaCrossoverState(msgspec.Struct):
    trends: dict[str, InstrumentTrend] = msgspec.field(default_factory=dict)


class EmaCrossover(Strategy):
    """Trades closed bars of ``bar_interval_s``; acts once the slow average has seen ``slow_period`` bars."""

    name = "ema-crossover"
    version = "1.0.0"
    state_type = EmaCrossoverState
    parameters = {
        "fast_period": IntParameter(12, minimum=1, maximum=1_000, doc="bars in the fast EMA"),
        "slow_period": IntParameter(26, minimum=2, maximum=10_000, doc="bars in the slow EMA (> fast_period)"),
        "position_size": DecimalParameter(minimum=0, exclusive_minimum=True, doc="position held, in base units"),
        "allow_short": BoolParameter(True, doc="short below the crossing (else flat)"),
        "bar_interval_s": IntParameter(60, minimum=1, maximum=86_400, doc="which candles to trade"),
    }

    @classmethod
    def check_parameters(cls, values: ParameterValues) -> None:
        if values.fast_period >= values.slow_period:
            raise ParameterError(
                cls.name, "fast_period", f"= {values.fast_period} must be below slow_period = {values.slow_period}"
            )

    def __init__(self, context: StrategyContext) -> None:
        super().__init__(context)
        self._state = EmaCrossoverState()
        self._subscribed = frozenset(context.instruments)
        self._bar_interval_s = self.params.bar_interval_s  # read per bar: kept off the parameters' lookup

    def on_bar(self, candle: Candle) -> Sequence[Intent]:
        key = candle.key
        if not candle.closed or candle.interval_s != self._bar_interval_s or key not in self._subscribed:
            return NO_INTENTS
        trend = self._state.trends.get(key)
        if trend is None:
            trend = self._state.trends[key] = InstrumentTrend(
                ExponentialAverage(self.params.fast_period), ExponentialAverage(self.params.slow_period)
            )
        fast, slow = trend.fast.update(candle.close), trend.slow.update(candle.close)
        if not trend.slow.warm or fast == slow:
            return NO_INTENTS
        signal = 1 if fast > slow else -1
        if signal == trend.signal:
            return NO_INTENTS
        trend.signal = signal
        size = size_in_lots(self.params.position_size, self.context.instrument(key))
        if signal < 0:
            size = -size if self.params.allow_short else 0
        reason = f"ema{self.params.fast_period} {'above' if signal > 0 else 'below'} ema{self.params.slow_period}"
        return [TargetPosition(key, size, None, reason)]

    def state(self) -> EmaCrossoverState:
        return self._state

    def load_state(self, state: EmaCrossoverState) -> None:
        self._state = state
