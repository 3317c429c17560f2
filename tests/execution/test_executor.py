"""An account's executor on the simulator's Binance and a real PostgreSQL: every order reaches the
exchange once — through replays, a crash between recording and sending, and restarts — and
positions follow the fills exactly."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from platform_streams.database.migrate import migrate
from platform_streams.execution.ccxt_order_entry import CcxtOrderEntry
from platform_streams.execution.executor import AccountExecutor
from platform_streams.execution.order_lifecycle import TrackedOrder
from platform_streams.execution.order_store import OrderStore
from platform_streams.schemas import CancelRequest, Fill, OrderEvent, OrderStatus, Side
from platform_streams.simulator import SimulatorThread
from tests.execution.test_ccxt_order_entry import order, requests_for
from tests.simulator.conftest import ccxt_options, make_config


@pytest.fixture
def simulator() -> Iterator[SimulatorThread]:
    with SimulatorThread(make_config(exchanges=["binance"])) as sim:
        yield sim


def arrivals(sim: SimulatorThread) -> dict[str, int]:
    counts: dict[str, int] = {}
    for arrival in sim.ground_truth.orders("binance"):
        counts[arrival.client_order_id] = counts.get(arrival.client_order_id, 0) + 1
    return counts


def test_orders_reach_the_exchange_once_through_replays_crashes_and_restarts(
    simulator: SimulatorThread, database_url: str
) -> None:
    migrate(database_url)
    symbol, price_scale, size_scale, price, size = requests_for(simulator)
    resting = order("rest-1", symbol, price_scale, size_scale, price, size)
    market = order("mkt-1", symbol, price_scale, size_scale, None, size)
    sell = order("mkt-2", symbol, price_scale, size_scale, None, size // 2, Side.SELL)
    crashed = order("crash-1", symbol, price_scale, size_scale, price, size)

    async def executor(store: OrderStore) -> AccountExecutor:
        return AccountExecutor(CcxtOrderEntry("binance", "sim", "binance", ccxt_options(simulator.urls["binance"].rest)), store)

    async def scenario() -> None:
        store = await OrderStore.connect(database_url)
        first = await executor(store)
        try:
            # pipelined: the sell goes once the buy it needs is answered (a batch's orders race at the exchange)
            events = await first.submit([resting, market]) + await first.submit([sell])
            statuses = {(e.client_order_id, e.status) for e in events if isinstance(e, OrderEvent)}
            assert statuses == {("rest-1", OrderStatus.NEW), ("mkt-1", OrderStatus.FILLED), ("mkt-2", OrderStatus.FILLED)}
            fills = [e for e in events if isinstance(e, Fill)]
            assert sum(f.size for f in fills if f.client_order_id == "mkt-1") == size
            position = first.positions.get("sim", "binance", symbol)
            assert position is not None and position.snapshot().size == size - size // 2  # bought size, sold half
            assert list(first.open_orders) == ["rest-1"]

            # the same requests again (consumed again after a restart): nothing new reaches the exchange,
            # and each order's current state is published again (deduped downstream by its event id)
            again = await first.submit([resting, market, sell])
            assert {(e.client_order_id, e.sequence) for e in again if isinstance(e, OrderEvent)} >= {("mkt-1", 1), ("rest-1", 1)}
            assert not [e for e in again if isinstance(e, Fill)]

            withdraw = CancelRequest("rest-1", "sim", "binance", symbol, "requote", 0)
            assert await first.submit([CancelRequest("never-sent", "sim", "binance", symbol, "requote", 0)]) == []
            canceled = await first.submit([withdraw])
            assert [(e.client_order_id, e.status) for e in canceled if isinstance(e, OrderEvent)] == [
                ("rest-1", OrderStatus.CANCELED)
            ]
            assert first.open_orders == {}
        finally:
            await first.entry.close()  # type: ignore[attr-defined]

        # a process that recorded an order and died before sending it
        assert await store.record(crashed) is True
        restarted = await executor(store)
        try:
            events = await restarted.reconcile_all()
            assert [(e.client_order_id, e.status) for e in events if isinstance(e, OrderEvent)] == [("crash-1", OrderStatus.NEW)]
            # positions rebuilt from the stored fills, exactly as before the restart
            rebuilt = restarted.positions.get("sim", "binance", symbol)
            assert rebuilt is not None and rebuilt.snapshot() == position.snapshot()
            async with store._pool.acquire() as connection:  # noqa: SLF001 - the positions table as the sink keeps it
                row = await connection.fetchrow("SELECT size, version FROM positions WHERE account = 'sim'")
            expected = rebuilt.snapshot()
            assert (row["size"] * 10**expected.size_scale, row["version"]) == (expected.size, expected.version)
            # reconciling again only publishes the same states again (same event ids): nothing is sent
            republished = await restarted.reconcile_all()
            assert [e.event_id for e in republished] == [e.event_id for e in events if isinstance(e, OrderEvent)]
        finally:
            await restarted.entry.close()  # type: ignore[attr-defined]
            await store.close()

    asyncio.run(scenario())
    assert arrivals(simulator) == {"rest-1": 1, "mkt-1": 1, "mkt-2": 1, "crash-1": 1}


def test_a_crash_between_an_order_s_fills_and_its_state_loses_no_fill_and_counts_none_twice(
    simulator: SimulatorThread, database_url: str
) -> None:
    migrate(database_url)
    symbol, price_scale, size_scale, _, size = requests_for(simulator)
    fills_first = order("crash-fills", symbol, price_scale, size_scale, None, size)
    state_first = order("crash-state", symbol, price_scale, size_scale, None, size)

    def entry() -> CcxtOrderEntry:
        return CcxtOrderEntry("binance", "sim", "binance", ccxt_options(simulator.urls["binance"].rest))

    async def scenario() -> None:
        store = await OrderStore.connect(database_url)
        dying = entry()
        try:
            # the executor's way (fills kept, then the state) cut short after the fills
            assert await store.record(fills_first)
            placed = await dying.place(fills_first)
            for fill in await dying.fills(fills_first, placed.filled_size):
                assert await store.record_fill(fill)
            # an order whose state was kept without its fills (a crash in the other order of writes)
            assert await store.record(state_first)
            placed = await dying.place(state_first)
            tracked = TrackedOrder(state_first)
            event = tracked.apply(placed)
            assert event is not None and event.status is OrderStatus.FILLED
            await store.apply(event)
        finally:
            await dying.close()

        restarted = AccountExecutor(entry(), store)
        try:
            # the first order still pending: asked, found filled, its fills kept before the crash not
            # counted again; the second over, its fills fetched because the stored ones fall short
            events = await restarted.reconcile_all()
            assert [(e.client_order_id, e.status) for e in events if isinstance(e, OrderEvent)] == [
                ("crash-fills", OrderStatus.FILLED)
            ]
            assert {e.client_order_id for e in events if isinstance(e, Fill)} == {"crash-state"}
            assert sum(e.size for e in events if isinstance(e, Fill)) == size
            replayed = await restarted.submit([state_first, fills_first])  # replays: nothing new
            assert not [e for e in replayed if isinstance(e, Fill)]
            for name in ("crash-fills", "crash-state"):
                stored = await store.get(name)
                assert stored is not None and stored.status is OrderStatus.FILLED
            assert await store.short_of_fills("sim", "binance") == []
            position = restarted.positions.get("sim", "binance", symbol)
            assert position is not None and position.snapshot().size == 2 * size  # each fill counted once
            assert restarted.open_orders == {} and restarted.followed() == []
        finally:
            await restarted.entry.close()  # type: ignore[attr-defined]
            await store.close()

    asyncio.run(scenario())
    assert arrivals(simulator) == {"crash-fills": 1, "crash-state": 1}
