"""Relative strength index of closes, with Wilder's smoothing."""

from __future__ import annotations

from platform_streams.processing.indicators.averages import PeriodParameters
from platform_streams.processing.indicators.base import CandleIndicator, IndicatorOutput, OutputUnit


class RelativeStrengthIndex(CandleIndicator):
    """RSI: the first ``period`` close-to-close changes seed the average gain and loss (plain means),
    later ones smooth them as ``avg = (avg * (period - 1) + change) / period``;
    ``RSI = 100 - 100 / (1 + avg_gain / avg_loss)``, 100 when there is no loss, 50 when neither."""

    name = "rsi"
    parameters_type = PeriodParameters
    outputs = (IndicatorOutput("value", OutputUnit.RATIO, 6),)
    parameters: PeriodParameters

    def __init__(self, parameters: PeriodParameters) -> None:
        super().__init__(parameters)
        self._previous: int | None = None
        self._changes = 0
        self._gain = 0.0
        self._loss = 0.0

    def update(self, high: int, low: int, close: int, volume: int) -> tuple[float, ...] | None:
        previous, self._previous = self._previous, close
        if previous is None:
            return None
        change = close - previous
        gain, loss = (change, 0) if change > 0 else (0, -change)
        period = self.parameters.period
        if self._changes < period:
            self._changes += 1
            self._gain += gain
            self._loss += loss
            if self._changes < period:
                return None
            self._gain /= period
            self._loss /= period
        else:
            self._gain = (self._gain * (period - 1) + gain) / period
            self._loss = (self._loss * (period - 1) + loss) / period
        if self._loss == 0.0:
            return (100.0 if self._gain > 0.0 else 50.0,)
        return (100.0 - 100.0 / (1.0 + self._gain / self._loss),)
