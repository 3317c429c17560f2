"""The executor merging its two roads (private-stream reports and REST answers) on a real
PostgreSQL: one state machine, each fill once whichever road brought it first, an order followed
until its fills add up, every event in the outbox in the order it was made.

The exchange here is a scripted order entry (what REST answers is set by the test), so each race
is played exactly; the venues' real streams are proven in test_private_stream_following.py."""

from __future__ import annotations

import asyncio
from collections import deque

import msgspec

from platform_streams.database.migrate import migrate
from platform_streams.exchanges.user_stream import OrderReport, TradeReport
from platform_streams.execution.executor import AccountExecutor, ExecutionEvent
from platform_streams.execution.order_lifecycle import OrderUpdate
from platform_streams.execution.order_store import OrderStore
from platform_streams.execution.stream_reports import fill_of
from platform_streams.schemas import Fill, Liquidity, OrderEvent, OrderRequest, OrderStatus, Position, Side
from tests.exchanges.test_user_streams import request
from tests.sinks.sink_harness import fetch


class ScriptedEntry:
    """An order entry whose REST answers the test sets."""

    exchange, account = "binance", "sim"

    def __init__(self) -> None:
        self.state = OrderUpdate(status=OrderStatus.NEW, filled_size=0, exchange_order_id="x1")
        self.rest_fills: list[Fill] = []
        self.queries = 0

    async def place(self, request: OrderRequest) -> OrderUpdate:
        return self.state

    async def cancel(self, request: OrderRequest) -> OrderUpdate | None:
        return None

    async def query(self, request: OrderRequest) -> OrderUpdate | None:
        self.queries += 1
        return self.state

    async def fills(self, request: OrderRequest, filled_size: int | None = None) -> list[Fill]:
        return self.rest_fills


def trade(fill_id: str, size: str) -> TradeReport:
    return TradeReport(
        fill_id=fill_id, client_order_id="c1", exchange_order_id="x1", side=Side.BUY, price="6.4974", size=size,
        fee="0.001", fee_asset="DOT", liquidity=Liquidity.MAKER,
    )  # fmt: skip


def state(status: OrderStatus, filled: str) -> OrderReport:
    return OrderReport(client_order_id="c1", exchange_order_id="x1", status=status, filled=filled)


def test_a_fill_heard_by_both_roads_counts_once_and_the_order_is_followed_until_its_fills_add_up(database_url: str) -> None:
    migrate(database_url)
    outbox: deque[ExecutionEvent] = deque()

    async def scenario() -> AccountExecutor:
        entry = ScriptedEntry()
        store = await OrderStore.connect(database_url)
        executor = AccountExecutor(entry, store, outbox=outbox)
        try:
            await executor.submit([request()])
            assert executor.followed() == ["c1"]
            made = await executor.apply_stream([state(OrderStatus.PARTIALLY_FILLED, "1.1"), trade("t1", "1.1")], 1)
            assert [type(e) for e in made] == [OrderEvent, Fill, Position]
            # the stream says filled before the second trade reached us: the order is over, its fills are owed
            made = await executor.apply_stream([state(OrderStatus.FILLED, "2.3")], 2)
            assert [(e.status, e.filled_size) for e in made if isinstance(e, OrderEvent)] == [(OrderStatus.FILLED, 23)]
            assert executor.open_orders == {} and list(executor.awaiting_fills) == ["c1"] and executor.followed() == ["c1"]
            # REST asked about it (the plan would, once the stream is quiet): both fills, the first counted already
            entry.state = OrderUpdate(status=OrderStatus.FILLED, filled_size=23, exchange_order_id="x1")
            entry.rest_fills = [fill_of(trade(t, s), request(), "sim", "binance", 3) for t, s in (("t1", "1.1"), ("t2", "1.2"))]
            made = await executor.poll(executor.followed())
            assert [(e.fill_id, e.size) for e in made if isinstance(e, Fill)] == [("t2", 12)]
            assert executor.followed() == []
            # the stream's own report of the second trade comes late: nothing new
            assert await executor.apply_stream([trade("t2", "1.2"), state(OrderStatus.FILLED, "2.3")], 4) == []
            # reports about other orders, or that do not fit the order, change nothing and do not stop the stream
            other = OrderReport(client_order_id="not-ours", exchange_order_id="y", status=OrderStatus.FILLED, filled="1")
            assert await executor.apply_stream([other], 5) == []
            entry.state = OrderUpdate(status=OrderStatus.NEW, filled_size=0, exchange_order_id="x2")
            await executor.submit([msgspec.structs.replace(request(), client_order_id="c2")])
            bad = OrderReport(client_order_id="c2", exchange_order_id="x2", status=OrderStatus.NEW, filled="0.05")
            assert await executor.apply_stream([bad], 6) == []
            return executor
        finally:
            await store.close()

    executor = asyncio.run(scenario())
    position = executor.positions.get("sim", "binance", "DOT/USDT")
    assert position is not None and position.snapshot().size == 23
    events = [e for e in outbox if isinstance(e, OrderEvent) and e.client_order_id == "c1"]
    assert [(e.sequence, e.status) for e in events] == [
        (1, OrderStatus.NEW), (2, OrderStatus.PARTIALLY_FILLED), (3, OrderStatus.FILLED),
    ]  # fmt: skip
    assert [e.fill_id for e in outbox if isinstance(e, Fill)] == ["t1", "t2"]
    rows = fetch(database_url, "SELECT fill_id, size FROM fills ORDER BY fill_id")
    assert [(r["fill_id"], r["size"] * 10) for r in rows] == [("t1", 11), ("t2", 12)]


def test_a_restart_fetches_the_fills_of_an_order_that_ended_before_they_were_kept(database_url: str) -> None:
    """The process died between storing "filled" and storing its fills: the next one fetches them."""
    migrate(database_url)

    async def scenario() -> tuple[list[ExecutionEvent], list[str]]:
        store = await OrderStore.connect(database_url)
        try:
            entry = ScriptedEntry()
            entry.state = OrderUpdate(status=OrderStatus.FILLED, filled_size=23, exchange_order_id="x1")
            first = AccountExecutor(entry, store)
            first.fills.add("c1", "t0", 23)  # the crash: as if the fills were counted, but none is stored
            await first.submit([request()])
            assert len(await store.fills("sim", "binance")) == 0
            entry.rest_fills = [fill_of(trade(t, s), request(), "sim", "binance", 3) for t, s in (("t1", "1.1"), ("t2", "1.2"))]
            restarted = AccountExecutor(entry, store)
            events = await restarted.reconcile_all()
            return events, [f.fill_id for f in await store.fills("sim", "binance")]
        finally:
            await store.close()

    events, stored = asyncio.run(scenario())
    assert [e.fill_id for e in events if isinstance(e, Fill)] == ["t1", "t2"] and sorted(stored) == ["t1", "t2"]
