"""Pipelined order entry on a real PostgreSQL: an account's orders are sent in order without
waiting for the answer to the one before, at most ``max_in_flight`` at once; an order's own
operations (its placement, then a cancel) wait for each other; an answer that fails is waited out
and the order reconciled, sent once. The exchange is a gated order entry: each placement's answer
comes when the test releases it, so each interleaving is played exactly."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any

import msgspec

from platform_streams.database.migrate import migrate
from platform_streams.exchanges.user_stream import OrderReport
from platform_streams.execution.ccxt_order_entry import OrderEntryError, RateLimited
from platform_streams.execution.executor import AccountExecutor, ExecutionEvent
from platform_streams.execution.order_lifecycle import OrderUpdate
from platform_streams.execution.order_store import OrderStore
from platform_streams.schemas import CancelRequest, OrderEvent, OrderRequest, OrderStatus
from tests.exchanges.test_user_streams import request


def named(client_order_id: str) -> OrderRequest:
    return msgspec.structs.replace(request(), client_order_id=client_order_id)


class GatedEntry:
    """An order entry that logs every call as it starts and answers a placement only once released."""

    exchange, account = "binance", "sim"

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.placed: set[str] = set()
        self.release: dict[str, asyncio.Event] = {}
        self.fail_once: dict[str, Exception] = {}

    def gate(self, client_order_id: str) -> asyncio.Event:
        return self.release.setdefault(client_order_id, asyncio.Event())

    async def place(self, request: OrderRequest) -> OrderUpdate:
        self.calls.append(("place", request.client_order_id))
        await self.gate(request.client_order_id).wait()
        failure = self.fail_once.pop(request.client_order_id, None)
        if isinstance(failure, RateLimited):
            raise failure  # refused: the exchange did not take it
        self.placed.add(request.client_order_id)
        if failure is not None:
            raise failure  # the order went through, its answer did not come back
        return OrderUpdate(status=OrderStatus.NEW, filled_size=0, exchange_order_id="x-" + request.client_order_id)

    async def cancel(self, request: OrderRequest) -> OrderUpdate | None:
        self.calls.append(("cancel", request.client_order_id))
        return OrderUpdate(status=OrderStatus.CANCELED, filled_size=0, exchange_order_id="x-" + request.client_order_id)

    async def query(self, request: OrderRequest) -> OrderUpdate | None:
        self.calls.append(("query", request.client_order_id))
        if request.client_order_id not in self.placed:
            return None
        return OrderUpdate(status=OrderStatus.NEW, filled_size=0, exchange_order_id="x-" + request.client_order_id)

    async def fills(self, request: OrderRequest, filled_size: int | None = None) -> list[object]:
        return []


@contextlib.asynccontextmanager
async def gated_executor(database_url: str, **options: Any) -> AsyncIterator[tuple[GatedEntry, AccountExecutor]]:
    """An executor on a gated entry and a real PostgreSQL (its store closed afterwards)."""
    entry = GatedEntry()
    store = await OrderStore.connect(database_url)
    try:
        yield entry, AccountExecutor(entry, store, **options)  # type: ignore[arg-type]
    finally:
        await store.close()


async def until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    """Let the loop run until ``condition`` holds (a database round trip takes real time)."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.005)


async def idle(seconds: float = 0.3) -> None:
    """Let the loop run for a while: what has not happened by then is held back."""
    await asyncio.sleep(seconds)


def test_orders_are_sent_in_order_without_waiting_for_answers_within_the_window(database_url: str) -> None:
    migrate(database_url)
    outbox: deque[ExecutionEvent] = deque()

    async def scenario() -> None:
        async with gated_executor(database_url, outbox=outbox, max_in_flight=3) as (entry, executor):
            # three orders: all three sent before any answer came, in request order; every one recorded first
            started = await executor.dispatch([named("p1"), named("p2"), named("p3")])
            await until(lambda: len(entry.calls) == 3)
            assert entry.calls == [("place", "p1"), ("place", "p2"), ("place", "p3")]
            assert executor.in_flight == 3 and set(executor.followed()) == {"p1", "p2", "p3"}
            for name in ("p1", "p2", "p3"):
                stored = await executor.store.get(name)
                assert stored is not None and stored.status is OrderStatus.PENDING
            # the window is full: a fourth waits for a slot (dispatch does not return yet)
            fourth = asyncio.ensure_future(executor.dispatch([named("p4")]))
            await idle()
            assert not fourth.done() and ("place", "p4") not in entry.calls
            # answers in any order: the second's first frees the slot the fourth takes
            entry.gate("p2").set()
            await until(fourth.done)
            await until(lambda: entry.calls[-1] == ("place", "p4"))
            for name in ("p1", "p3", "p4"):
                entry.gate(name).set()
            await asyncio.gather(*started, *fourth.result())
            assert executor.in_flight == 0
            news = [(e.client_order_id, e.sequence) for e in outbox if isinstance(e, OrderEvent)]
            assert sorted(news) == [("p1", 1), ("p2", 1), ("p3", 1), ("p4", 1)] and news[0] == ("p2", 1)

    asyncio.run(scenario())


def test_a_cancel_waits_for_its_order_s_placement_and_other_orders_go_past(database_url: str) -> None:
    migrate(database_url)

    async def scenario() -> None:
        async with gated_executor(database_url) as (entry, executor):
            cancel = CancelRequest("c1", "sim", "binance", request().symbol, "requote", 0)
            started = await executor.dispatch([named("c1"), cancel, named("c2")])
            entry.gate("c2").set()
            await until(lambda: ("place", "c2") in entry.calls)
            await idle()
            # the cancel of c1 is not sent while c1's placement waits; c2 went past both
            assert entry.calls == [("place", "c1"), ("place", "c2")]
            assert list(executor.open_orders) == ["c1", "c2"]
            entry.gate("c1").set()
            outcomes = await asyncio.gather(*started)
            assert entry.calls == [("place", "c1"), ("place", "c2"), ("cancel", "c1")]
            assert [(e.client_order_id, e.status) for e in outcomes[1] if isinstance(e, OrderEvent)] == [
                ("c1", OrderStatus.CANCELED)
            ]
            assert list(executor.open_orders) == ["c2"]
            stored = await executor.store.get("c1")
            assert stored is not None and stored.status is OrderStatus.CANCELED

    asyncio.run(scenario())


def test_a_lost_answer_is_reconciled_and_a_rate_refused_order_sent_again_each_placed_once(database_url: str) -> None:
    migrate(database_url)
    troubles: list[str] = []

    async def scenario() -> None:
        async with gated_executor(database_url, on_trouble=lambda kind, _: troubles.append(kind)) as (entry, executor):
            entry.fail_once["lost"] = OrderEntryError("binance: connection reset")
            entry.fail_once["limited"] = RateLimited("binance: too many requests", 0.05)
            for name in ("lost", "limited", "fine"):
                entry.gate(name).set()
            outcomes = await executor.submit([named("lost"), named("limited"), named("fine")])
            # the lost answer: asked about (found), never sent again; the refused one (the exchange did
            # not take it): sent again once the wait was over, without asking first
            places = [c for c in entry.calls if c[0] == "place"]
            assert places[:3] == [("place", "lost"), ("place", "limited"), ("place", "fine")] and places[3:] == [
                ("place", "limited")
            ]
            assert ("query", "lost") in entry.calls and ("query", "limited") not in entry.calls
            assert entry.placed == {"lost", "limited", "fine"}
            assert sorted((e.client_order_id, e.status) for e in outcomes if isinstance(e, OrderEvent)) == [
                ("fine", OrderStatus.NEW), ("limited", OrderStatus.NEW), ("lost", OrderStatus.NEW)
            ]  # fmt: skip
            assert sorted(troubles) == ["exchange", "rate_limited"]

    asyncio.run(scenario())


def test_a_cancel_of_an_order_filled_with_its_fills_still_coming_keeps_it_followed(database_url: str) -> None:
    """The stream said "filled" before its trade arrived, and the strategy's cancel comes now: the
    cancel withdraws nothing, and the order stays followed until its fills add up (a copy of it
    from the store, which trails the events, must not end the following)."""
    migrate(database_url)

    async def scenario() -> None:
        async with gated_executor(database_url) as (entry, executor):
            entry.gate("c1").set()
            await executor.submit([request()])
            filled = OrderReport(client_order_id="c1", exchange_order_id="x-c1", status=OrderStatus.FILLED, filled="2.3")
            await executor.apply_stream([filled], 1)
            assert executor.followed() == ["c1"] and executor.open_orders == {}
            cancel = CancelRequest("c1", "sim", "binance", request().symbol, "requote", 0)
            assert await executor.submit([cancel]) == []
            assert ("cancel", "c1") not in entry.calls and executor.followed() == ["c1"]

    asyncio.run(scenario())
