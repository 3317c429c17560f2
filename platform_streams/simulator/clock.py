"""Simulated time: advanced in fixed quanta, so what the simulator generates never depends on the wall clock.

The server drives the clock from real time (as many quanta as have elapsed); tests
step it by hand. Either way the content of quantum ``k`` depends only on the seed
and on what happened before it, which is what makes a run reproducible.
"""

from __future__ import annotations


class SimClock:
    """Simulated time in nanoseconds: ``epoch_ns + steps * quantum_ns``."""

    __slots__ = ("epoch_ns", "quantum_ns", "steps")

    def __init__(self, epoch_ns: int, quantum_ns: int) -> None:
        if quantum_ns <= 0:
            raise ValueError(f"quantum_ns must be positive, got {quantum_ns}")
        self.epoch_ns = epoch_ns
        self.quantum_ns = quantum_ns
        self.steps = 0

    @property
    def now_ns(self) -> int:
        return self.epoch_ns + self.steps * self.quantum_ns

    @property
    def now_ms(self) -> int:
        return self.now_ns // 1_000_000

    def advance(self) -> None:
        self.steps += 1
