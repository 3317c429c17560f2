"""Execution's order record in a real PostgreSQL: recorded once before sending, events and fills idempotent."""

from __future__ import annotations

import asyncio
import json
import time

import msgspec

from platform_streams.database.migrate import migrate
from platform_streams.execution.order_lifecycle import OrderUpdate, TrackedOrder
from platform_streams.execution.order_store import OrderStore
from platform_streams.schemas import (
    AssetAmount,
    Fill,
    Hop,
    Liquidity,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    Side,
    TimeInForce,
)


def request(client_order_id: str, account: str = "acct", price: int | None = 6_512_345) -> OrderRequest:
    return OrderRequest(
        client_order_id=client_order_id, account=account, exchange="binance", symbol="BTC/USDT", side=Side.SELL,
        order_type=OrderType.LIMIT if price else OrderType.MARKET, time_in_force=TimeInForce.GTC, price=price,
        size=1_500, price_scale=2, size_scale=4, strategy="momentum", intent_id=f"i-{client_order_id}",
        created_ts_ns=1_700_000_000_000_000_000, market_receive_ts_ns=1_699_999_999_990_000_000,
        hops=[Hop("strategy", 1_699_999_999_995_000_000, 1_699_999_999_996_000_000), Hop("risk", 7, 8)],
    )  # fmt: skip


def test_an_order_is_recorded_once_and_comes_back_exactly(database_url: str) -> None:
    migrate(database_url)

    async def scenario() -> None:
        store = await OrderStore.connect(database_url)
        try:
            order = request("c-1")
            assert await store.record(order) is True
            assert await store.record(order) is False  # a replayed request is not sent twice
            stored = await store.get("c-1")
            assert stored is not None and stored.request == order
            assert (stored.status, stored.filled_size, stored.last_sequence, stored.sent_ts_ns) == (
                OrderStatus.PENDING,
                0,
                0,
                None,
            )
            assert await store.record(request("c-2", price=None), sent_ts_ns=77) is True  # recorded as it is sent
            assert await store.record(request("c-2", price=None), sent_ts_ns=78) is False
            second = await store.get("c-2")
            assert second is not None and second.request.price is None and second.sent_ts_ns == 77
        finally:
            await store.close()

    asyncio.run(scenario())


def test_events_apply_in_sequence_and_unfinished_orders_are_found_for_reconciliation(database_url: str) -> None:
    migrate(database_url)

    async def scenario() -> None:
        store = await OrderStore.connect(database_url)
        try:
            tracked = {name: TrackedOrder(request(name)) for name in ("a", "b", "c")}
            for order in tracked.values():
                await store.record(order.request)
            await store.mark_sent("a", 42)
            await store.mark_sent("a", 43)  # the first send time stays
            new = tracked["a"].apply(
                OrderUpdate(status=OrderStatus.NEW, filled_size=0, exchange_order_id="x-1", receive_ts_ns=50)
            )
            partial = tracked["a"].apply(OrderUpdate(status=OrderStatus.PARTIALLY_FILLED, filled_size=500, receive_ts_ns=60))
            assert new is not None and partial is not None
            await store.apply(partial)
            await store.apply(new)  # late: older than what is applied, kept as an event only
            filled = tracked["b"].apply(OrderUpdate(status=OrderStatus.FILLED, filled_size=1_500, exchange_order_id="x-2"))
            assert filled is not None
            await store.apply(filled)
            a = await store.get("a")
            assert a is not None
            assert (a.status, a.filled_size, a.exchange_order_id, a.last_sequence, a.sent_ts_ns) == (
                OrderStatus.PARTIALLY_FILLED, 500, "x-1", 2, 42,
            )  # fmt: skip
            assert [o.request.client_order_id for o in await store.unfinished("acct")] == ["a", "c"]
            assert await store.unfinished("other") == []
            async with store._pool.acquire() as connection:  # noqa: SLF001 - the events table itself
                events = await connection.fetch("SELECT client_order_id, sequence FROM order_events ORDER BY 1, 2")
                acked = await connection.fetchval("SELECT acked_ts_ns FROM orders WHERE client_order_id = 'a'")
            assert [tuple(e) for e in events] == [("a", 1), ("a", 2), ("b", 1)]
            assert acked == 60  # the first non-pending answer applied
        finally:
            await store.close()

    asyncio.run(scenario())


def test_a_fill_is_kept_once(database_url: str) -> None:
    migrate(database_url)

    async def scenario() -> None:
        store = await OrderStore.connect(database_url)
        try:
            fill = Fill(
                fill_id="t-1", client_order_id="a", exchange_order_id="x-1", account="acct", exchange="binance",
                symbol="BTC/USDT", side=Side.SELL, price=6_512_345, size=500, price_scale=2, size_scale=4, fee=3_256,
                fee_scale=8, fee_asset="USDT", liquidity=Liquidity.MAKER, exchange_ts_ns=1_700_000_000_000_000_000,
                receive_ts_ns=1_700_000_000_001_000_000,
            )  # fmt: skip
            assert await store.record_fill(fill) is True
            assert await store.record_fill(fill) is False
            # the other side of the same trade, an order of the same account (a self-trade): its own fill
            own_buy = msgspec.structs.replace(fill, side=Side.BUY, client_order_id="b", exchange_order_id="x-2")
            assert await store.record_fill(own_buy) is True
            assert await store.record_fill(own_buy) is False
            async with store._pool.acquire() as connection:  # noqa: SLF001
                row = await connection.fetchrow("SELECT price::text, size::text, fee::text FROM fills WHERE side = 'sell'")
            assert tuple(row) == ("65123.45", "0.0500", "0.00003256")
        finally:
            await store.close()

    asyncio.run(scenario())


def test_a_position_is_kept_only_if_newer(database_url: str) -> None:
    migrate(database_url)

    async def scenario() -> None:
        store = await OrderStore.connect(database_url)
        try:

            def position(version: int, size: int) -> Position:
                return Position(
                    account="acct", exchange="binance", symbol="BTC/USDT", size=size, size_scale=4,
                    average_price=651_234_500, price_scale=6, realized_pnl=-12, unrealized_pnl=34, pnl_scale=6,
                    mark_price=None, fees=[AssetAmount("USDT", 3_256, 8)], updated_ts_ns=version, version=version,
                )  # fmt: skip

            await store.save_position(position(2, 500))
            await store.save_position(position(1, 999))  # older: ignored
            async with store._pool.acquire() as connection:  # noqa: SLF001
                row = await connection.fetchrow("SELECT size::text, realized_pnl::text, version, fees FROM positions")
            assert (row["size"], row["realized_pnl"], row["version"]) == ("0.0500", "-0.000012", 2)
            assert json.loads(row["fees"]) == [{"asset": "USDT", "amount": "0.00003256"}]
        finally:
            await store.close()

    asyncio.run(scenario())


def test_orders_recorded_together_are_new_once_and_keep_their_send_times(database_url: str) -> None:
    migrate(database_url)

    async def scenario() -> None:
        store = await OrderStore.connect(database_url)
        one, two, three = (f"m{n}-{time.time_ns()}" for n in (1, 2, 3))
        try:
            assert await store.record(request(one)) is True  # recorded before: not new again
            new = await store.record_many([(request(one), 5), (request(two), 6), (request(three, price=None), None)])
            assert new == {two, three}
            assert await store.record_many([]) == set()
            assert await store.record_many([(request(two), 7)]) == set()  # a replayed batch sends nothing twice
            stored = [await store.get(c) for c in (one, two, three)]
            assert [s.sent_ts_ns for s in stored if s is not None] == [None, 6, None]
            assert stored[1] is not None and stored[1].request == request(two)
            assert stored[2] is not None and stored[2].request.price is None
        finally:
            await store.close()

    asyncio.run(scenario())
