"""Order entry asks the host's request budget before every call to the exchange, by the call's kind
and account, and tells it a 429 as a backoff: of the account when the exchange counted the account
(no ``Retry-After``), of the whole exchange when it refused the IP (``Retry-After``)."""

from __future__ import annotations

import asyncio

import pytest

from platform_streams.exchanges.registry import VENUES
from platform_streams.execution.ccxt_order_entry import CcxtOrderEntry, RateLimited
from platform_streams.ingestion.snapshot_budget_service import LocalSnapshotBudget
from platform_streams.simulator import SimulatorThread
from tests.execution.test_ccxt_order_entry import order, requests_for
from tests.simulator.conftest import ccxt_options, make_config


class RecordingBudget(LocalSnapshotBudget):
    """The in-process budget at Binance's declared limits, remembering what it was asked and told."""

    def __init__(self) -> None:
        super().__init__({"binance": VENUES["binance"].limits.request_limits()})
        self.asked: list[tuple[str, str]] = []
        self.backoffs: list[tuple[str, float, str]] = []

    async def acquire(self, exchange: str, weight: int = 1, priority: int = 1, **request) -> None:  # type: ignore[no-untyped-def]
        self.asked.append((request.get("kind", "snapshot"), request.get("account", "")))
        await super().acquire(exchange, weight, priority, **request)

    async def backoff(self, exchange: str, seconds: float, account: str = "") -> None:
        self.backoffs.append((exchange, seconds, account))
        await super().backoff(exchange, seconds, account)


def test_every_call_is_granted_first_and_an_order_count_refusal_backs_off_the_account() -> None:
    with SimulatorThread(make_config(exchanges=["binance"])) as sim:
        symbol, price_scale, size_scale, price, size = requests_for(sim)
        budget = RecordingBudget()
        waits: list[str] = []

        async def scenario() -> None:
            entry = CcxtOrderEntry(
                "binance", "sim", "binance", ccxt_options(sim.urls["binance"].rest), budget=budget,
                on_budget_wait=lambda kind, seconds: waits.append(kind),
            )  # fmt: skip
            try:
                resting = order("b-rest", symbol, price_scale, size_scale, price, size)
                await entry.place(resting)
                await entry.query(resting)
                await entry.cancel(resting)
                await entry.fills(resting)
                sim.inject_fault(kind="rate_limit", exchange="binance", count=1)  # Binance's -1015, no Retry-After
                with pytest.raises(RateLimited):
                    await entry.place(order("b-refused", symbol, price_scale, size_scale, None, size))
            finally:
                await entry.close()

        asyncio.run(scenario())
    kinds = [kind for kind, _ in budget.asked]
    assert kinds[:4] == ["markets", "place", "query", "cancel"] and "fills" in kinds and kinds[-1] == "place"
    assert {account for _, account in budget.asked} == {"sim"}
    assert waits == kinds  # each grant's wait observed, by kind
    assert budget.backoffs == [("binance", 1.0, "sim")]  # the account only: the IP was not refused


def test_a_weight_refusal_with_retry_after_backs_off_the_whole_exchange() -> None:
    limits = {"rest": {"request_weight": 30, "request_weight_interval_s": 60}}  # the test's look (25) fits, markets (20) not
    with SimulatorThread(make_config(exchanges=["binance"], binance=limits)) as sim:
        symbol, price_scale, size_scale, _, size = requests_for(sim)
        budget = RecordingBudget()

        async def scenario() -> None:
            entry = CcxtOrderEntry("binance", "sim", "binance", ccxt_options(sim.urls["binance"].rest), budget=budget)
            try:
                with pytest.raises(RateLimited) as refused:
                    await entry.place(order("w-1", symbol, price_scale, size_scale, None, size))
                assert refused.value.retry_after_s >= 1
            finally:
                await entry.close()

        asyncio.run(scenario())
    ((exchange, seconds, account),) = budget.backoffs
    assert (exchange, account) == ("binance", "") and seconds >= 1  # every account of the host pauses
