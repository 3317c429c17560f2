"""Fixed-window counters keyed by client (IP or account), the way exchanges meter request weight and orders.

Windows are aligned to the wall clock (a one-minute window resets at every whole
minute), which is how Binance resets its counters and what its Retry-After
values count down to. Time is passed in, so tests can drive it.
"""

from __future__ import annotations

import math


class FixedWindowCounter:
    """Per-key totals in the current window of ``interval_s`` seconds; older windows are forgotten."""

    def __init__(self, limit: int, interval_s: float) -> None:
        if limit <= 0 or interval_s <= 0:
            raise ValueError(f"limit and interval must be positive, got {limit} per {interval_s}s")
        self.limit = limit
        self.interval_s = interval_s
        self._window = -1
        self._counts: dict[str, int] = {}

    def _roll(self, now: float) -> None:
        window = math.floor(now / self.interval_s)
        if window != self._window:
            self._window = window
            self._counts = {}

    def add(self, key: str, amount: int, now: float) -> int:
        """Add ``amount`` for ``key``; returns the key's total in the current window."""
        self._roll(now)
        total = self._counts.get(key, 0) + amount
        self._counts[key] = total
        return total

    def seconds_to_reset(self, now: float) -> int:
        """Whole seconds until the current window ends (at least 1)."""
        end = (math.floor(now / self.interval_s) + 1) * self.interval_s
        return max(1, math.ceil(end - now))


def interval_suffix(interval_s: float) -> str:
    """Binance's header suffix for an interval: 60 → ``1M``, 10 → ``10S``, 86400 → ``1D``."""
    for unit_seconds, letter in ((86_400, "D"), (3_600, "H"), (60, "M")):
        if interval_s >= unit_seconds and interval_s % unit_seconds == 0:
            return f"{int(interval_s // unit_seconds)}{letter}"
    return f"{int(interval_s)}S"
