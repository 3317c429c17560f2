"""Restart backoff: exponential delays after consecutive crashes, forgiven after a stable run."""

from __future__ import annotations


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
