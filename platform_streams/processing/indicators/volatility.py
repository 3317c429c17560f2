"""Volatility of candles: average true range, Bollinger bands and realised volatility."""

from __future__ import annotations

import math
from collections import deque

from platform_streams.processing.indicators.averages import PeriodParameters
from platform_streams.processing.indicators.base import (
    CandleIndicator,
    IndicatorOutput,
    OutputUnit,
    Parameters,
    at_least,
)


class AverageTrueRange(CandleIndicator):
    """ATR: true range ``max(high - low, |high - prev close|, |low - prev close|)`` (``high - low`` for
    the first candle), seeded by the mean of the first ``period`` ranges, then Wilder-smoothed."""

    name = "atr"
    parameters_type = PeriodParameters
    outputs = (IndicatorOutput("value", OutputUnit.PRICE),)
    parameters: PeriodParameters

    def __init__(self, parameters: PeriodParameters) -> None:
        super().__init__(parameters)
        self._previous_close: int | None = None
        self._count = 0
        self._value = 0.0

    def update(self, high: int, low: int, close: int, volume: int) -> tuple[float, ...] | None:
        previous = self._previous_close
        self._previous_close = close
        true_range = high - low if previous is None else max(high - low, abs(high - previous), abs(low - previous))
        period = self.parameters.period
        if self._count >= period:
            self._value = (self._value * (period - 1) + true_range) / period
            return (self._value,)
        self._count += 1
        self._value += true_range
        if self._count < period:
            return None
        self._value /= period
        return (self._value,)


class BollingerParameters(Parameters, frozen=True):
    period: int
    k: float = 2.0

    def validate(self) -> None:
        at_least("period", self.period, 2)
        if not (math.isfinite(self.k) and self.k > 0):
            raise ValueError(f"k must be a positive number, got {self.k!r}")


class BollingerBands(CandleIndicator):
    """Middle band: the SMA of the last ``period`` closes; upper/lower: middle ± ``k`` population
    standard deviations of those closes (sums of closes and squares are exact integers)."""

    name = "bollinger"
    parameters_type = BollingerParameters
    outputs = (
        IndicatorOutput("middle", OutputUnit.PRICE),
        IndicatorOutput("upper", OutputUnit.PRICE),
        IndicatorOutput("lower", OutputUnit.PRICE),
    )
    parameters: BollingerParameters

    def __init__(self, parameters: BollingerParameters) -> None:
        super().__init__(parameters)
        self._window: deque[int] = deque(maxlen=parameters.period)
        self._sum = 0
        self._squares = 0

    def update(self, high: int, low: int, close: int, volume: int) -> tuple[float, ...] | None:
        window = self._window
        if len(window) == window.maxlen:
            old = window[0]
            self._sum -= old
            self._squares -= old * old
        window.append(close)
        self._sum += close
        self._squares += close * close
        n = self.parameters.period
        if len(window) < n:
            return None
        middle = self._sum / n
        deviation = self.parameters.k * math.sqrt((n * self._squares - self._sum * self._sum) / (n * n))
        return (middle, middle + deviation, middle - deviation)


class RealisedVolatility(CandleIndicator):
    """Realised volatility over the last ``period`` close-to-close log returns: ``sqrt(sum(r_i ** 2))``,
    per window (not annualised). The running sum is re-added exactly every ``period`` updates, so
    float drift cannot accumulate."""

    name = "realised_volatility"
    parameters_type = PeriodParameters
    outputs = (IndicatorOutput("value", OutputUnit.RATIO, 10),)
    parameters: PeriodParameters

    def __init__(self, parameters: PeriodParameters) -> None:
        super().__init__(parameters)
        self._previous: int | None = None
        self._squares: deque[float] = deque(maxlen=parameters.period)
        self._sum = 0.0
        self._since_resum = 0

    def update(self, high: int, low: int, close: int, volume: int) -> tuple[float, ...] | None:
        previous, self._previous = self._previous, close
        if previous is None or previous <= 0 or close <= 0:
            return None
        squares = self._squares
        if len(squares) == squares.maxlen:
            self._sum -= squares[0]
        square = math.log(close / previous) ** 2
        squares.append(square)
        self._since_resum += 1
        if self._since_resum >= self.parameters.period:
            self._sum, self._since_resum = math.fsum(squares), 0
        else:
            self._sum += square
        if len(squares) < self.parameters.period:
            return None
        return (math.sqrt(max(self._sum, 0.0)),)
