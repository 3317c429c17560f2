"""Moving averages of closes (SMA, EMA) and the volume-weighted average price over a window of candles."""

from __future__ import annotations

from collections import deque

from platform_streams.processing.indicators.base import CandleIndicator, IndicatorOutput, OutputUnit, Parameters, at_least

_PRICE = (IndicatorOutput("value", OutputUnit.PRICE),)


class PeriodParameters(Parameters, frozen=True):
    period: int

    def validate(self) -> None:
        at_least("period", self.period, 1)


class SimpleMovingAverage(CandleIndicator):
    """Mean of the last ``period`` closes; sums are exact integers, so no drift."""

    name = "sma"
    parameters_type = PeriodParameters
    outputs = _PRICE
    parameters: PeriodParameters

    def __init__(self, parameters: PeriodParameters) -> None:
        super().__init__(parameters)
        self._window: deque[int] = deque(maxlen=parameters.period)
        self._sum = 0

    def update(self, high: int, low: int, close: int, volume: int) -> tuple[float, ...] | None:
        window = self._window
        if len(window) == window.maxlen:
            self._sum -= window[0]
        window.append(close)
        self._sum += close
        if len(window) < self.parameters.period:
            return None
        return (self._sum / self.parameters.period,)


class ExponentialMovingAverage(CandleIndicator):
    """EMA of closes with ``alpha = 2 / (period + 1)``, seeded by the SMA of the first ``period`` closes."""

    name = "ema"
    parameters_type = PeriodParameters
    outputs = _PRICE
    parameters: PeriodParameters

    def __init__(self, parameters: PeriodParameters) -> None:
        super().__init__(parameters)
        self._alpha = 2.0 / (parameters.period + 1)
        self._count = 0
        self._seed_sum = 0
        self._value = 0.0

    def update(self, high: int, low: int, close: int, volume: int) -> tuple[float, ...] | None:
        period = self.parameters.period
        if self._count >= period:
            self._value += self._alpha * (close - self._value)
            return (self._value,)
        self._count += 1
        self._seed_sum += close
        if self._count < period:
            return None
        self._value = self._seed_sum / period
        return (self._value,)


class VolumeWeightedAveragePrice(CandleIndicator):
    """VWAP over the last ``period`` candles, each at its typical price ``(high + low + close) / 3``:
    ``sum(typical * volume) / sum(volume)``; undefined while the window's volume is zero."""

    name = "vwap"
    parameters_type = PeriodParameters
    outputs = _PRICE
    parameters: PeriodParameters

    def __init__(self, parameters: PeriodParameters) -> None:
        super().__init__(parameters)
        self._window: deque[tuple[int, int]] = deque(maxlen=parameters.period)
        self._weighted = 0  # sum((high + low + close) * volume): exact
        self._volume = 0

    def update(self, high: int, low: int, close: int, volume: int) -> tuple[float, ...] | None:
        window = self._window
        if len(window) == window.maxlen:
            old_weighted, old_volume = window[0]
            self._weighted -= old_weighted
            self._volume -= old_volume
        weighted = (high + low + close) * volume
        window.append((weighted, volume))
        self._weighted += weighted
        self._volume += volume
        if len(window) < self.parameters.period or self._volume == 0:
            return None
        return (self._weighted / (3 * self._volume),)
