"""The host's request budget over several keys: jointly never over any key's window, cancels before
orders before snapshots, an account out of room holding up nobody else, backoffs per exchange or account."""

from __future__ import annotations

import asyncio
from collections.abc import Hashable

import pytest

from platform_streams.exchanges.limits import LimitOverride, RequestLimit, RequestLimits
from platform_streams.exchanges.registry import VENUES
from platform_streams.execution.daemon import ExecutionSettings
from platform_streams.ingestion.request_budget import BudgetKey, KeyedBudget
from platform_streams.ingestion.snapshot_budget_daemon import BudgetLimit, SnapshotBudgetSettings
from platform_streams.ingestion.snapshot_budget_service import KIND_RANK, LocalSnapshotBudget, SnapshotBudgetError
from platform_streams.settings import ConfigError
from platform_streams.simulator.kraken.rate_limits import DecayingCounter
from platform_streams.simulator.rate_windows import FixedWindowCounter

LIMITS = {
    "rest": RequestLimit(60, "ip", window_s=10.0),  # weight per IP
    "orders": RequestLimit(10, "account", window_s=2.0),  # orders per account
}


def budget(limits: dict[str, RequestLimit] = LIMITS, safety: float = 0.9, burst: float = 0.2) -> KeyedBudget:
    return KeyedBudget(lambda key: limits[key[1]], now=0.0, safety=safety, burst=burst)


def order_costs(account: str) -> dict[BudgetKey, int]:
    return {("binance", "rest", ""): 1, ("binance", "orders", account): 1}


def run(keyed: KeyedBudget, until: float = 1e5) -> list[tuple[float, Hashable]]:
    """Grant everything, jumping from one possible grant to the next; (time, request) in grant order."""
    granted: list[tuple[float, Hashable]] = []
    t = 0.0
    while t < until:
        granted.extend((t, request) for request in keyed.grants(t))
        next_at = keyed.next_grant_at(t)
        if next_at is None:
            return granted
        t = max(next_at, t + 1e-3)  # a head held back by another's reservation says "now": look a little later
    raise AssertionError(f"still {keyed.waiting} waiting at {until}")


def test_orders_of_two_accounts_and_snapshots_never_pass_any_keys_window() -> None:
    keyed = budget()
    costs: dict[Hashable, dict[BudgetKey, int]] = {}
    for i in range(40):
        for account in ("a", "b"):
            costs[(account, i)] = order_costs(account)
            keyed.request((account, i), costs[(account, i)], (KIND_RANK["place"], 1))
    for i in range(20):
        costs[("snapshot", i)] = {("binance", "rest", ""): 5}
        keyed.request(("snapshot", i), costs[("snapshot", i)], (KIND_RANK["snapshot"], 1))
    granted = run(keyed)
    assert sorted(request for _, request in granted) == sorted(costs)  # every one, once
    # replay the grants into the exchange's own fixed-window counters, at many phases: never over 90 %
    for phase in (0.0, 0.3, 0.7, 1.1, 1.9, 4.2, 7.7):
        weight = FixedWindowCounter(10**9, 10.0)
        orders = FixedWindowCounter(10**9, 2.0)
        for t, request in granted:
            for (_, limit, scope), cost in costs[request].items():
                counter = weight if limit == "rest" else orders
                total = counter.add(scope or "ip", cost, t + phase)
                assert total <= 0.9 * LIMITS[limit].count + 1e-9, (limit, scope, t, total)


def test_cancels_go_before_orders_and_orders_before_snapshots() -> None:
    keyed = budget({"rest": RequestLimit(10, "ip", window_s=10.0), "orders": LIMITS["orders"]}, safety=1.0, burst=0.1)
    keyed.request("drain", {("binance", "rest", ""): 1}, (0, 0))
    assert keyed.grants(0.0) == ["drain"]  # the IP's weight is spent: what comes next waits
    for i in range(3):
        keyed.request(f"snapshot-{i}", {("binance", "rest", ""): 1}, (KIND_RANK["snapshot"], 0))
    keyed.request("order", order_costs("a"), (KIND_RANK["place"], 5))
    keyed.request("cancel", {("binance", "rest", ""): 1}, (KIND_RANK["cancel"], 9))
    assert [request for _, request in run(keyed)] == ["cancel", "order", "snapshot-0", "snapshot-1", "snapshot-2"]


def test_an_account_out_of_orders_holds_up_neither_the_other_account_nor_snapshots() -> None:
    keyed = budget(safety=1.0, burst=0.5)  # 5 orders per account at once, 30 weight at once
    for i in range(8):
        keyed.request(("a", i), order_costs("a"), (KIND_RANK["place"], 0))
    keyed.request(("b", 0), order_costs("b"), (KIND_RANK["place"], 1))
    keyed.request("snapshot", {("binance", "rest", ""): 5}, (KIND_RANK["snapshot"], 0))
    first = keyed.grants(0.0)
    assert first == [("a", 0), ("a", 1), ("a", 2), ("a", 3), ("a", 4), ("b", 0), "snapshot"]


def test_a_big_request_is_not_starved_by_small_ones_behind_it() -> None:
    keyed = budget({"rest": RequestLimit(100, "ip", window_s=10.0)}, safety=1.0, burst=0.5)  # 50 at once, 5 per second
    keyed.request("small-0", {("x", "rest", ""): 30}, (3, 0))
    keyed.request("big", {("x", "rest", ""): 50}, (3, 1))
    keyed.request("small-1", {("x", "rest", ""): 1}, (3, 2))
    assert keyed.grants(0.0) == ["small-0"]  # 20 left: big waits, and small-1 may not take what big waits for
    assert keyed.grants(5.0) == []
    assert keyed.next_grant_at(5.0) == pytest.approx(6.0)
    assert keyed.grants(6.0) == ["big"]


def test_an_account_backoff_pauses_that_account_and_an_exchange_backoff_all_of_it() -> None:
    keyed = budget(safety=1.0, burst=0.5)
    keyed.backoff("binance", "a", until=30.0)
    keyed.request("a", order_costs("a"), (1, 0))
    keyed.request("b", order_costs("b"), (1, 0))
    assert keyed.grants(1.0) == ["b"]
    assert keyed.next_grant_at(1.0) == 30.0
    assert keyed.grants(30.0) == ["a"]
    keyed.backoff("binance", "", until=60.0)  # the IP itself was refused
    keyed.request("c", order_costs("c"), (1, 0))  # an account not seen before is blocked too
    keyed.request("snapshot", {("binance", "rest", ""): 1}, (3, 0))
    keyed.request("okx", {("okx", "rest", ""): 1}, (3, 0))  # another exchange is not
    assert keyed.grants(59.0) == ["okx"]
    assert sorted(keyed.grants(60.0)) == ["c", "snapshot"]


def test_a_decaying_counter_is_never_refused_by_krakens_own_counter() -> None:
    kraken = VENUES["kraken"].limits.request_limits()
    keyed = KeyedBudget(lambda key: kraken.limits[key[1]], now=0.0)
    costs: dict[Hashable, dict[BudgetKey, int]] = {}
    for i in range(30):
        costs[("query", i)] = {("kraken", "api", "a"): 1}
        costs[("fills", i)] = {("kraken", "api", "a"): 2}
        costs[("cancel", i)] = {("kraken", "orders", "a"): 8}
        for request in (("query", i), ("fills", i), ("cancel", i)):
            keyed.request(request, costs[request], (KIND_RANK[request[0]], 0))
    counters = {name: DecayingCounter(limit.count, limit.decay_per_s) for name, limit in kraken.limits.items()}
    granted = run(keyed)
    assert len(granted) == 90
    for t, request in granted:
        for (_, name, account), cost in costs[request].items():
            assert counters[name].try_add(account, cost, t), (request, t)


def test_limits_replaced_by_settings_keep_their_scope_and_costs() -> None:
    binance = VENUES["binance"].limits.request_limits()
    replaced = binance.replaced({"orders": LimitOverride(10, window_s=2.0)})
    assert replaced.limits["orders"] == RequestLimit(10, "account", binance.limits["orders"].counts, window_s=2.0)
    assert replaced.costs_of("place") == {"rest": 1, "orders": 1, "orders_day": 1}
    assert replaced.costs_of("snapshot", 250) == {"rest": 250}
    with pytest.raises(ValueError, match="no limit"):
        binance.replaced({"weight": LimitOverride(1, window_s=1.0)})
    with pytest.raises(ValueError, match="exactly one of"):
        binance.replaced({"orders": LimitOverride(10, window_s=2.0, decay_per_s=1.0)})
    with pytest.raises(ValueError, match="unknown operation"):
        RequestLimits(binance.limits, {"teleport": {"rest": 1}})


def test_every_venue_that_trades_prices_every_call_execution_makes() -> None:
    for name, venue in VENUES.items():
        if venue.execution is not None:
            limits = venue.limits.request_limits()
            for operation in ("markets", "place", "cancel", "query", "fills"):
                assert limits.costs_of(operation), (name, operation)


def test_the_local_budget_prices_a_kind_by_the_venues_declaration_and_refuses_what_it_cannot() -> None:
    async def scenario() -> None:
        local = LocalSnapshotBudget({"binance": VENUES["binance"].limits.request_limits()})
        await local.acquire("binance", kind="place", account="a")
        await local.acquire("binance", kind="cancel", account="a", costs={"rest": 1})
        await local.acquire("binance", 50)  # a snapshot of weight 50, as ingestion asks
        with pytest.raises(SnapshotBudgetError, match="per account"):
            await local.acquire("binance", kind="place")
        with pytest.raises(SnapshotBudgetError, match="no limit 'weight'"):
            await local.acquire("binance", kind="query", account="a", costs={"weight": 4})
        with pytest.raises(SnapshotBudgetError, match="unknown request kind"):
            await local.acquire("binance", kind="withdraw", account="a")

    asyncio.run(scenario())


def test_settings_that_replace_a_limit_no_venue_declares_fail_when_loaded() -> None:
    with pytest.raises(ConfigError, match=r"request_limits.binance: no limit \['weight'\]"):
        SnapshotBudgetSettings(name="b", exchanges=["binance"], request_limits={"binance": {"weight": LimitOverride(1, 1.0)}})
    with pytest.raises(ConfigError, match="budget_limits: no limit"):
        ExecutionSettings(name="e", account="a", exchange="okx", budget_limits={"orders": LimitOverride(1, 1.0)})
    settings = SnapshotBudgetSettings(
        name="b", exchanges=["binance", "coinbase"], limits={"binance": BudgetLimit(600, 60.0)},
        request_limits={"binance": {"orders": LimitOverride(50, window_s=10.0)}},
    )  # fmt: skip
    binance, coinbase = settings.budget_limits()["binance"], settings.budget_limits()["coinbase"]
    assert (binance.limits["rest"].count, binance.limits["orders"].count, binance.limits["orders"].scope) == (600, 50, "account")
    assert set(coinbase.limits) == {"rest"}  # a venue that does not trade: its public REST budget alone
