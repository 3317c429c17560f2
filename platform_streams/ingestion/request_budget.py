"""The host's request budget: every REST call to an exchange, from any daemon, granted only while
each limit it counts against (the IP's weight, an account's orders...) has room, most urgent first.

A limit is kept as one token bucket per key (exchange, limit, scope: ``""`` for the IP, else the
account). A fixed-window limit's bucket holds at most ``burst`` × count and refills so that a
burst plus a window's refill stay within ``safety`` × count (what any fixed window may see,
whatever its phase); a decaying counter (Kraken) is exactly a bucket of its maximum refilled at its
decay, kept at ``safety`` of both. A request names its cost on each key and is granted when every
one covers it. Requests wait by priority (lower first, FIFO within); a request that does not fit
reserves the keys it lacks, so nothing after it takes what it waits for (no starvation), while
requests on other keys go on (an account out of orders does not hold up the IP's snapshots).
A backoff (429 ``Retry-After``) blocks an exchange, or one account of it, until it ends.
Pure logic: the service (:mod:`snapshot_budget_service`) drives it with real time.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Hashable, Mapping

from platform_streams.exchanges.limits import RequestLimit

BudgetKey = tuple[str, str, str]  # (exchange, limit name, scope: "" for the IP, else the account)


class TokenBucket:
    """One key's room: ``tokens`` up to ``capacity``, refilled at ``refill_per_s``; blocked after a backoff."""

    def __init__(self, capacity: float, refill_per_s: float, now: float) -> None:
        self.capacity = capacity
        self.refill_per_s = refill_per_s
        self.tokens = capacity
        self.blocked_until = now
        self._updated = now

    @classmethod
    def for_limit(cls, limit: RequestLimit, now: float, safety: float, burst: float) -> TokenBucket:
        if limit.decay_per_s > 0:
            return cls(limit.count * safety, limit.decay_per_s * safety, now)
        return cls(max(1.0, limit.count * burst), limit.count * (safety - burst) / limit.window_s, now)

    def refill(self, now: float) -> None:
        if now > self._updated:
            self.tokens = min(self.capacity, self.tokens + (now - self._updated) * self.refill_per_s)
            self._updated = now

    def covers(self, cost: int, now: float) -> bool:
        return now >= self.blocked_until and cost <= self.tokens + 1e-9  # float refill may fall a hair short

    def ready_at(self, cost: int, now: float) -> float:
        """When the bucket will cover ``cost`` (refilled to ``now`` first)."""
        return max(now + max(0.0, cost - self.tokens) / self.refill_per_s, self.blocked_until)

    def block_until(self, until: float) -> None:
        """The exchange said stop: nothing before ``until``, and the bucket is emptied (it counts more than we thought)."""
        self.blocked_until = max(self.blocked_until, until)
        self.tokens = 0.0


class _Waiting:
    __slots__ = ("costs", "priority", "request_id", "sequence")

    def __init__(self, request_id: Hashable, costs: dict[BudgetKey, int], priority: tuple[int, int], sequence: int) -> None:
        self.request_id = request_id
        self.costs = costs
        self.priority = priority
        self.sequence = sequence

    def __lt__(self, other: _Waiting) -> bool:
        return (self.priority, self.sequence) < (other.priority, other.sequence)


class KeyedBudget:
    """Grants requests that each cost something on one or more keys, within every key's bucket.

    ``limit_of`` gives a key's limit (a ``KeyError`` for a key no exchange declares); buckets are
    made on first use, so accounts need no declaring. Requests with the same keys wait in one
    queue; the grant loop looks at each queue's head, most urgent first, so it costs the number of
    key sets, not of waiting requests."""

    def __init__(
        self, limit_of: Callable[[BudgetKey], RequestLimit], now: float, safety: float = 0.9, burst: float = 0.2
    ) -> None:
        if not 0 < burst < safety <= 1:
            raise ValueError(f"need 0 < burst < safety <= 1, not burst={burst} safety={safety}")
        self._limit_of = limit_of
        self._safety = safety
        self._burst = burst
        self._buckets: dict[BudgetKey, TokenBucket] = {}
        self._backoffs: dict[tuple[str, str], float] = {}  # (exchange, account or "" for all of it) → until
        self._queues: dict[tuple[BudgetKey, ...], list[_Waiting]] = {}
        self._where: dict[Hashable, tuple[BudgetKey, ...]] = {}
        self._sequence = itertools.count()
        self._created = now

    def bucket(self, key: BudgetKey) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket.for_limit(self._limit_of(key), self._created, self._safety, self._burst)
            for (exchange, account), until in self._backoffs.items():
                if exchange == key[0] and account in ("", key[2]):
                    bucket.block_until(until)
        return bucket

    def request(self, request_id: Hashable, costs: Mapping[BudgetKey, int], priority: tuple[int, int]) -> None:
        """Queue a request; ``ValueError`` for one no bucket could ever grant (no cost, or one above a capacity)."""
        if not costs:
            raise ValueError("a request must cost something on at least one limit")
        for key, cost in costs.items():
            bucket = self.bucket(key)
            if cost < 1:
                raise ValueError(f"cost {cost} on {key[1]} must be at least 1")
            if cost > bucket.capacity:
                raise ValueError(f"cost {cost} on {key[1]} exceeds the budget's capacity {bucket.capacity:.0f}")
        keys = tuple(sorted(costs))
        heapq.heappush(self._queues.setdefault(keys, []), _Waiting(request_id, dict(costs), priority, next(self._sequence)))
        self._where[request_id] = keys

    def cancel(self, request_id: Hashable) -> None:
        keys = self._where.pop(request_id, None)
        if keys is None:
            return
        queue = [waiting for waiting in self._queues[keys] if waiting.request_id != request_id]
        heapq.heapify(queue)
        self._queues[keys] = queue

    def backoff(self, exchange: str, account: str, until: float) -> None:
        """Block ``exchange`` (``account`` empty: all of it, the IP was refused) or one account of it until ``until``."""
        self._backoffs[(exchange, account)] = max(self._backoffs.get((exchange, account), until), until)
        for key, bucket in self._buckets.items():
            if key[0] == exchange and account in ("", key[2]):
                bucket.block_until(until)

    def grants(self, now: float) -> list[Hashable]:
        """Requests granted at ``now``, most urgent first (a request that does not fit reserves what it lacks)."""
        heads = [(queue[0], keys) for keys, queue in self._queues.items() if queue]
        heapq.heapify(heads)
        reserved: set[BudgetKey] = set()
        granted: list[Hashable] = []
        while heads:
            waiting, keys = heapq.heappop(heads)
            lacking = [key for key in keys if key in reserved or not self._covers(key, waiting.costs[key], now)]
            if lacking:
                reserved.update(lacking)
                continue
            for key in keys:
                self._buckets[key].tokens -= waiting.costs[key]
            granted.append(waiting.request_id)
            del self._where[waiting.request_id]
            queue = self._queues[keys]
            heapq.heappop(queue)
            if queue:
                heapq.heappush(heads, (queue[0], keys))
        return granted

    def _covers(self, key: BudgetKey, cost: int, now: float) -> bool:
        bucket = self._buckets[key]
        bucket.refill(now)
        return bucket.covers(cost, now)

    def next_grant_at(self, now: float) -> float | None:
        """The earliest time a queue's head may fit (``None`` when nothing waits): when to look again."""
        times = []
        for keys, queue in self._queues.items():
            if queue:
                head = queue[0]
                times.append(max(self._ready_at(key, head.costs[key], now) for key in keys))
        return min(times, default=None)

    def _ready_at(self, key: BudgetKey, cost: int, now: float) -> float:
        bucket = self._buckets[key]
        bucket.refill(now)
        return bucket.ready_at(cost, now)

    @property
    def waiting(self) -> int:
        return len(self._where)

    def waiting_by_exchange(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for keys, queue in self._queues.items():
            if queue:
                counts[keys[0][0]] = counts.get(keys[0][0], 0) + len(queue)
        return counts


def unaffordable(
    limits: Mapping[str, RequestLimit], costs: Mapping[str, Mapping[str, int]], safety: float, burst: float
) -> list[str]:
    """The declared costs no bucket of these limits could ever grant (a limit set too low for its calls)."""
    capacity = {name: TokenBucket.for_limit(limit, 0.0, safety, burst).capacity for name, limit in limits.items()}
    return [
        f"{operation} costs {cost} on {name}, whose budget holds at most {capacity[name]:.0f}"
        for operation, by_limit in costs.items()
        if operation != "snapshot"  # a snapshot's cost is its weight times this: checked when asked
        for name, cost in by_limit.items()
        if cost > capacity[name]
    ]
