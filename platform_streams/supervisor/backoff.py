"""Restart policy: exponential delays after consecutive crashes, forgiven after a stable run, and a
budget of restarts per window after which the supervisor gives up on a child."""

from __future__ import annotations

from collections import deque


class RestartBackoff:
    """``next_delay`` doubles from ``initial_s`` to ``max_s``; a run of ``stable_s`` resets it."""

    def __init__(self, initial_s: float = 0.5, max_s: float = 30.0, stable_s: float = 60.0) -> None:
        self.initial_s = initial_s
        self.max_s = max_s
        self.stable_s = stable_s
        self.failures = 0

    def next_delay(self, ran_for_s: float) -> float:
        """Delay before restarting a process that exited after running ``ran_for_s`` seconds."""
        if ran_for_s >= self.stable_s:
            self.failures = 0
        delay = min(self.initial_s * 2**self.failures, self.max_s)
        self.failures += 1
        return delay

    def forgive(self) -> None:
        """Start again from ``initial_s`` (the crashes had a cause that is gone now)."""
        self.failures = 0


class RestartBudget:
    """At most ``max_restarts`` restarts in any ``window_s`` seconds: a child that crashes more often
    is broken, and restarting it again would only hide that."""

    def __init__(self, max_restarts: int, window_s: float) -> None:
        if max_restarts < 0 or window_s <= 0:
            raise ValueError(f"need max_restarts >= 0 and window_s > 0, not {max_restarts} and {window_s}")
        self.max_restarts = max_restarts
        self.window_s = window_s
        self._spent: deque[float] = deque()

    def spend(self, now: float) -> bool:
        """Record a crash at ``now``; True if a restart is still within the budget, False if it is spent."""
        while self._spent and now - self._spent[0] >= self.window_s:
            self._spent.popleft()
        if len(self._spent) >= self.max_restarts:
            return False
        self._spent.append(now)
        return True

    @property
    def spent(self) -> int:
        return len(self._spent)

    def describe(self) -> str:
        return f"{self.max_restarts} restarts within {self.window_s:.0f}s"
