"""The snapshot budget: priority order within the weight, backoff after a 429, shared across processes."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from platform_streams.ingestion.snapshot_budget import WeightBudget
from platform_streams.ingestion.snapshot_budget_client import SnapshotBudgetClient
from platform_streams.ingestion.snapshot_budget_service import LocalSnapshotBudget, SnapshotBudgetError, SnapshotBudgetServer
from tests.waiting import wait_until_async


def test_grants_in_priority_order_within_the_capacity() -> None:
    budget = WeightBudget(weight=100, window_s=10, now=0, safety=1.0, burst=0.8)  # 80 at once, then 2 per second
    for name, weight, priority in [("a", 40, 2), ("b", 40, 1), ("c", 40, 0), ("d", 10, 2)]:
        budget.request(name, weight, priority)
    assert budget.grants(0) == ["c", "b"]  # 80 used; "a" (40) does not fit
    assert budget.grants(0) == []  # the head blocks "d" too: no starvation of big requests
    assert budget.next_grant_at(0) == pytest.approx(20.0)  # 40 missing at 2 per second
    assert budget.grants(20.0) == ["a"]
    assert budget.grants(25.0) == ["d"]


def test_no_window_ever_sees_more_than_the_safe_share() -> None:
    budget = WeightBudget(weight=6000, window_s=60, now=0, safety=0.9, burst=0.2)
    grants: list[float] = []
    for i in range(400):
        budget.request(i, 50, 1)
    t = 0.0
    while budget.waiting:
        grants.extend([t] * len(budget.grants(t)))
        t = budget.next_grant_at(t) or t
    for start in range(0, 300, 7):  # any fixed 60-second window, at several phases
        used = 50 * sum(1 for g in grants if start <= g < start + 60)
        assert used <= 0.9 * 6000


def test_a_429_blocks_every_grant_until_retry_after() -> None:
    budget = WeightBudget(weight=100, window_s=1, now=0, safety=1.0, burst=0.5)
    budget.block_until(30)
    budget.request("x", 1, 0)
    assert budget.grants(29.9) == []
    assert budget.next_grant_at(29.9) == 30
    assert budget.grants(30) == ["x"]


def test_invalid_budgets_and_requests() -> None:
    with pytest.raises(ValueError):
        WeightBudget(weight=0, window_s=1, now=0)
    budget = WeightBudget(weight=100, window_s=1, now=0, safety=0.9, burst=0.5)
    with pytest.raises(ValueError, match="exceeds"):
        budget.request("big", 60, 0)
    with pytest.raises(ValueError):
        WeightBudget(weight=100, window_s=1, now=0, safety=0.5, burst=0.6)


async def grant_times(acquire, requests) -> list[tuple[str, float]]:
    started = time.monotonic()
    granted: list[tuple[str, float]] = []

    async def one(name: str, weight: int, priority: int) -> None:
        await acquire("binance", weight, priority)
        granted.append((name, time.monotonic() - started))

    await asyncio.gather(*(one(*r) for r in requests))
    return granted


def test_local_budget_spaces_grants_by_weight() -> None:
    budget = LocalSnapshotBudget({"binance": (200, 1.0)}, safety=1.0, burst=0.5)  # 100 at once, then 100 per second
    requests = [(f"r{i}", 50, 1) for i in range(6)]  # 300 weight: two at once, then one per 0.5 s
    granted = asyncio.run(grant_times(budget.acquire, requests))
    times = [t for _, t in granted]
    assert len(granted) == 6
    assert times[3] >= 0.49 and times[5] >= 1.49  # never faster than the budget allows


def test_service_shares_one_budget_between_clients_with_priorities(tmp_path: Path) -> None:
    async def scenario() -> list[str]:
        # 50 weight/s, a bucket of 100: low-1 takes it whole, and a second 100 waits 2 s for the refill
        server = SnapshotBudgetServer(tmp_path / "budget.sock", {"binance": (200, 4.0)}, safety=1.0, burst=0.5)
        await server.start()
        first, second = SnapshotBudgetClient(server.socket_path), SnapshotBudgetClient(server.socket_path)
        try:
            order: list[str] = []

            async def ask(client: SnapshotBudgetClient, name: str, priority: int) -> None:
                await client.acquire("binance", 100, priority)
                order.append(name)

            low_1 = asyncio.create_task(ask(first, "low-1", 5))
            await wait_until_async(lambda: order == ["low-1"], 10, "low-1 granted at once")
            low_2 = asyncio.create_task(ask(first, "low-2", 5))
            await wait_until_async(lambda: server.stats()["binance"].waiting == 1, 10, "low-2 waiting for the refill")
            urgent = asyncio.create_task(ask(second, "urgent", 0))  # later, from another client, more urgent
            await asyncio.wait_for(asyncio.gather(low_1, low_2, urgent), 30)
            with pytest.raises(SnapshotBudgetError, match="no request budget for exchange"):
                await first.acquire("kraken", 1)
            return order
        finally:
            await first.close()
            await second.close()
            await server.stop()

    # urgent overtakes low-2, which was waiting before it arrived
    assert asyncio.run(scenario()) == ["low-1", "urgent", "low-2"]


def test_unreachable_service_is_a_clear_error(tmp_path: Path) -> None:
    async def scenario() -> None:
        await SnapshotBudgetClient(tmp_path / "missing.sock", connect_timeout_s=0.3).acquire("binance", 1)

    with pytest.raises(SnapshotBudgetError, match="not reachable"):
        asyncio.run(scenario())
