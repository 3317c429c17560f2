"""The snapshot budget: one exchange's REST weight, shared out by priority.

A token bucket refills at the rate the platform allows itself and holds at most a
burst; burst plus a window's refill never exceed ``safety`` × the documented weight,
so even an exchange counting in fixed windows sees at most that much in any window
(a full bucket refilled at the whole rate could reach twice it). Requests wait in a priority queue
(lower number first, FIFO within a priority) and are granted while the bucket
covers their weight. A 429/418 with ``Retry-After`` blocks every grant until then.
Pure logic: the service (:mod:`snapshot_budget_service`) drives it with real time.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Hashable


class WeightBudget:
    """Grants weighted requests in priority order within ``weight`` per ``window_s``."""

    def __init__(self, weight: int, window_s: float, now: float, safety: float = 0.9, burst: float = 0.2) -> None:
        if weight <= 0 or window_s <= 0 or not 0 < burst < safety <= 1:
            raise ValueError(f"invalid budget: weight={weight} window_s={window_s} safety={safety} burst={burst}")
        self.capacity = max(1.0, weight * burst)
        self.refill_per_s = weight * (safety - burst) / window_s
        self._tokens = self.capacity
        self._updated = now
        self._blocked_until = now
        self._queue: list[tuple[int, int, int, Hashable]] = []
        self._order = itertools.count()

    def request(self, request_id: Hashable, weight: int, priority: int) -> None:
        if weight > self.capacity:
            raise ValueError(f"request weight {weight} exceeds the budget's capacity {self.capacity:.0f}")
        heapq.heappush(self._queue, (priority, next(self._order), weight, request_id))

    def cancel(self, request_id: Hashable) -> None:
        self._queue = [entry for entry in self._queue if entry[3] != request_id]
        heapq.heapify(self._queue)

    def block_until(self, until: float) -> None:
        """The exchange said stop (429/418 ``Retry-After``): no grants before ``until``; the
        bucket is emptied, since the exchange counts more than we thought."""
        self._blocked_until = max(self._blocked_until, until)
        self._tokens = 0.0

    def _refill(self, now: float) -> None:
        if now > self._updated:
            self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.refill_per_s)
            self._updated = now

    def grants(self, now: float) -> list[Hashable]:
        """Requests granted at ``now``, in priority order (the head blocks the rest: no starvation)."""
        self._refill(now)
        granted: list[Hashable] = []
        if now < self._blocked_until:
            return granted
        while self._queue and self._queue[0][2] <= self._tokens + 1e-9:  # float refill may fall a hair short
            _, _, weight, request_id = heapq.heappop(self._queue)
            self._tokens -= weight
            granted.append(request_id)
        return granted

    def next_grant_at(self, now: float) -> float | None:
        """When the head of the queue can be granted (``None`` when nothing waits)."""
        if not self._queue:
            return None
        self._refill(now)
        missing = max(0.0, self._queue[0][2] - self._tokens)
        return max(now + missing / self.refill_per_s, self._blocked_until)

    @property
    def waiting(self) -> int:
        return len(self._queue)
