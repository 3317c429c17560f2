"""Small incremental statistics the strategies compute for themselves, O(1) per value: an
exponential moving average and a rolling window's mean and standard deviation (exact integer
sums, so no drift). The platform's indicator library (``platform_streams/processing``) publishes
the same kinds of values on ``md.indicator``; a strategy may use those through ``on_indicator``
instead, these keep a strategy self-contained in backtest."""

from __future__ import annotations

import math
from collections import deque

import msgspec


class ExponentialAverage(msgspec.Struct, array_like=True):
    """EMA with smoothing ``2 / (period + 1)``, seeded with the first value; ``count`` values seen.

    The average of prices is a signal, not money: float is fine here."""

    period: int
    value: float = 0.0
    count: int = 0

    def update(self, x: float) -> float:
        if self.count == 0:
            self.value = x
        else:
            alpha = 2.0 / (self.period + 1)
            self.value += alpha * (x - self.value)
        self.count += 1
        return self.value

    @property
    def warm(self) -> bool:
        """Whether it has seen at least ``period`` values."""
        return self.count >= self.period


class RollingWindow:
    """The last ``size`` integer values (price mantissas) with their exact sum and sum of squares."""

    __slots__ = ("size", "_window", "total", "total_squares")

    def __init__(self, size: int, values: list[int] | None = None) -> None:
        self.size = size
        self._window: deque[int] = deque(values or (), maxlen=size)
        self.total = sum(self._window)
        self.total_squares = sum(x * x for x in self._window)

    def push(self, x: int) -> None:
        if len(self._window) == self.size:
            old = self._window[0]
            self.total -= old
            self.total_squares -= old * old
        self._window.append(x)
        self.total += x
        self.total_squares += x * x

    @property
    def full(self) -> bool:
        return len(self._window) == self.size

    def mean(self) -> float:
        return self.total / len(self._window)

    def standard_deviation(self) -> float:
        n = len(self._window)
        variance_times_n2 = n * self.total_squares - self.total * self.total  # exact integer
        return math.sqrt(max(variance_times_n2, 0)) / n

    def values(self) -> list[int]:
        """The window, oldest first (what a snapshot keeps)."""
        return list(self._window)
