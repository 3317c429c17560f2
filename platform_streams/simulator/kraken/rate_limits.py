"""Kraken's private rate limits: counters that rise with each call or order and decay continuously.

The API counter of an account rises by 1 per private call (2 for the history calls)
and decays by ``api_counter_decay_per_s``; the order rate counter of an account and
pair rises by 1 per order and by a penalty for cancelling a young order (8 within
5 s ... 1 within 300 s, Kraken's schedule) and decays by ``order_counter_decay_per_s``.
A call that would take a counter past its maximum is refused and not counted.
Counters are not money: floats are fine here.
"""

from __future__ import annotations

#: (order age below this many seconds, penalty) for a cancel, Kraken's published schedule
_CANCEL_PENALTIES = ((5, 8), (10, 6), (15, 5), (45, 4), (90, 2), (300, 1))


def cancel_penalty(age_s: float) -> int:
    """What cancelling an order of this age adds to the pair's order rate counter."""
    for below, penalty in _CANCEL_PENALTIES:
        if age_s < below:
            return penalty
    return 0


class DecayingCounter:
    """Per-key levels that decay at ``decay_per_s`` and may not exceed ``maximum``."""

    def __init__(self, maximum: int, decay_per_s: float) -> None:
        self.maximum = maximum
        self.decay_per_s = decay_per_s
        self._levels: dict[str, tuple[float, float]] = {}  # key → (level, when it was computed)

    def level(self, key: str, now: float) -> float:
        level, at = self._levels.get(key, (0.0, now))
        return max(0.0, level - (now - at) * self.decay_per_s)

    def try_add(self, key: str, amount: float, now: float) -> bool:
        """Add ``amount`` unless that exceeds the maximum; returns whether it was added."""
        level = self.level(key, now) + amount
        if level > self.maximum:
            return False
        self._levels[key] = (level, now)
        return True

    def add(self, key: str, amount: float, now: float) -> None:
        """Add ``amount`` even past the maximum (cancels are never refused; their penalty still counts)."""
        self._levels[key] = (self.level(key, now) + amount, now)
