"""Z-score mean reversion: when the closing price strays ``entry_z`` standard deviations from its
rolling mean, take the other side; flatten once it is back within ``exit_z``."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from platform_streams.schemas import Candle
from strategies.context import StrategyContext
from strategies.incremental_statistics import RollingWindow
from strategies.instrument_rules import size_in_lots
from strategies.intents import NO_INTENTS, Intent, TargetPosition
from strategies.parameters import BoolParameter, DecimalParameter, IntParameter, ParameterError, ParameterValues
from strategies.strategy import Strategy


class MeanReversionInstrument(msgspec.Struct):
    """One instrument's window of closes (oldest first) and its side (+1 long, -1 short, 0 flat)."""

    closes: list[int]
    side: int = 0


class MeanReversionState(msgspec.Struct):
    instruments: dict[str, MeanReversionInstrument] = msgspec.field(default_factory=dict)


class MeanReversion(Strategy):
    name = "mean-reversion"
    version = "1.0.0"
    state_type = MeanReversionState
    parameters = {
        "window": IntParameter(60, minimum=3, maximum=10_000, doc="closes in the rolling mean and deviation"),
        "entry_z": DecimalParameter("2", minimum="0.1", maximum=20, doc="enter beyond this many deviations"),
        "exit_z": DecimalParameter("0.5", minimum=0, maximum=20, doc="flatten within this many (< entry_z)"),
        "position_size": DecimalParameter(minimum=0, exclusive_minimum=True, doc="position held, in base units"),
        "allow_short": BoolParameter(True, doc="short when the price is rich (else only long or flat)"),
        "bar_interval_s": IntParameter(60, minimum=1, maximum=86_400, doc="which candles to trade"),
    }

    @classmethod
    def check_parameters(cls, values: ParameterValues) -> None:
        if values.exit_z >= values.entry_z:
            raise ParameterError(cls.name, "exit_z", f"= {values.exit_z} must be below entry_z = {values.entry_z}")

    def __init__(self, context: StrategyContext) -> None:
        super().__init__(context)
        self._windows: dict[str, RollingWindow] = {}
        self._sides: dict[str, int] = {}
        self._subscribed = frozenset(context.instruments)
        self._bar_interval_s = self.params.bar_interval_s  # read per bar: kept off the parameters' lookup
        self._entry, self._exit = float(self.params.entry_z), float(self.params.exit_z)

    def on_bar(self, candle: Candle) -> Sequence[Intent]:
        key = candle.key
        if not candle.closed or candle.interval_s != self._bar_interval_s or key not in self._subscribed:
            return NO_INTENTS
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = RollingWindow(self.params.window)
        window.push(candle.close)
        if not window.full:
            return NO_INTENTS
        deviation = window.standard_deviation()
        if deviation == 0:
            return NO_INTENTS
        z = (candle.close - window.mean()) / deviation
        side = self._sides.get(key, 0)
        if z >= self._entry:
            wanted = -1 if self.params.allow_short else 0
        elif z <= -self._entry:
            wanted = 1
        elif abs(z) <= self._exit:
            wanted = 0
        else:
            wanted = side
        if wanted == side:
            return NO_INTENTS
        self._sides[key] = wanted
        size = wanted * size_in_lots(self.params.position_size, self.context.instrument(key))
        return [TargetPosition(key, size, None, f"z={z:.2f}")]

    def state(self) -> MeanReversionState:
        return MeanReversionState(
            {key: MeanReversionInstrument(window.values(), self._sides.get(key, 0)) for key, window in self._windows.items()}
        )

    def load_state(self, state: MeanReversionState) -> None:
        self._windows = {key: RollingWindow(self.params.window, item.closes) for key, item in state.instruments.items()}
        self._sides = {key: item.side for key, item in state.instruments.items()}
