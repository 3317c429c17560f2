"""Order entry through ccxt against the simulator's Binance (real HTTP, real signing): exact
numbers from the exchange's text, orders found again by client order id, refusals as rejections."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal

import ccxt
import pytest

from platform_streams.execution.ccxt_order_entry import CcxtOrderEntry
from platform_streams.schemas import OrderRequest, OrderStatus, OrderType, Side, TimeInForce
from platform_streams.simulator import SimulatorThread
from tests.simulator.conftest import ccxt_options, make_config


@pytest.fixture
def simulator() -> Iterator[SimulatorThread]:
    with SimulatorThread(make_config(exchanges=["binance"])) as sim:
        yield sim


def scale_of(step: float) -> int:
    return -Decimal(str(step)).normalize().as_tuple().exponent  # type: ignore[operator]


def requests_for(sim: SimulatorThread) -> tuple[str, int, int, int, int]:
    """A USDT market, its price and size scales, a price half the bid (a resting buy no price move within a
    test reaches: at 0.9 of it, a CI run saw one filled) and a size worth ~3 min notional at that price."""
    client = ccxt.binance(ccxt_options(sim.urls["binance"].rest))
    markets = client.load_markets()
    symbol = next(s for s, m in markets.items() if m["quote"] == "USDT")
    market = markets[symbol]
    price_scale, size_scale = scale_of(market["precision"]["price"]), scale_of(market["precision"]["amount"])
    bid = client.fetch_order_book(symbol, limit=5)["bids"][0][0]
    price = int(Decimal(str(bid)) * Decimal("0.5") * 10**price_scale)
    size = int(Decimal(str(market["limits"]["cost"]["min"] * 3)) / (Decimal(price) / 10**price_scale) * 10**size_scale) + 1
    return symbol, price_scale, size_scale, price, size


def order(
    name: str, symbol: str, price_scale: int, size_scale: int, price: int | None, size: int, side: Side = Side.BUY
) -> OrderRequest:
    return OrderRequest(
        client_order_id=name, account="sim", exchange="binance", symbol=symbol, side=side,
        order_type=OrderType.LIMIT if price else OrderType.MARKET, time_in_force=TimeInForce.GTC, price=price, size=size,
        price_scale=price_scale, size_scale=size_scale, strategy="test", intent_id=name, created_ts_ns=0,
        market_receive_ts_ns=0, hops=[],
    )  # fmt: skip


def test_place_query_cancel_and_fills_by_client_order_id(simulator: SimulatorThread) -> None:
    symbol, price_scale, size_scale, price, size = requests_for(simulator)

    async def scenario() -> None:
        entry = CcxtOrderEntry("binance", "sim", "binance", ccxt_options(simulator.urls["binance"].rest))
        try:
            resting = order("rest-1", symbol, price_scale, size_scale, price, size)
            placed = await entry.place(resting)
            assert (placed.status, placed.filled_size) == (OrderStatus.NEW, 0) and placed.exchange_order_id
            queried = await entry.query(resting)
            assert queried is not None and queried.exchange_order_id == placed.exchange_order_id
            canceled = await entry.cancel(resting)
            assert canceled is not None and canceled.status is OrderStatus.CANCELED
            assert await entry.query(order("never-sent", symbol, price_scale, size_scale, price, size)) is None

            market = order("mkt-1", symbol, price_scale, size_scale, None, size)
            filled = await entry.place(market)
            assert (filled.status, filled.filled_size) == (OrderStatus.FILLED, size)
            fills = await entry.fills(market)
            assert fills and sum(f.size for f in fills) == size  # exact: integer mantissas from the exchange's text
            assert all(f.client_order_id == "mkt-1" and f.exchange_order_id == filled.exchange_order_id for f in fills)
            assert all(f.price > 0 and f.price_scale == price_scale for f in fills)

            # we hold exactly ``size`` of the base now: selling twice that is refused for funds
            too_big = order("sell-1", symbol, price_scale, size_scale, price * 2, size * 2, Side.SELL)
            rejected = await entry.place(too_big)
            assert rejected.status is OrderStatus.REJECTED and "insufficient" in rejected.reason.lower()
        finally:
            await entry.close()

    asyncio.run(scenario())


class AnswerLosingProxy:
    """Real HTTP in front of the simulator that forwards everything, but drops the connection
    instead of answering the first order placement — the order *is* placed at the exchange."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.dropped = 0
        self.url = ""
        self._runner: object = None

    async def start(self) -> None:
        from aiohttp import ClientSession, web

        self._session = ClientSession()

        async def forward(request: web.Request) -> web.StreamResponse:
            body = await request.read()
            headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
            async with self._session.request(
                request.method, f"{self.upstream}{request.path_qs}", data=body, headers=headers
            ) as answer:
                payload = await answer.read()
                if request.method == "POST" and request.path.endswith("/order") and not self.dropped:
                    self.dropped += 1
                    assert request.transport is not None
                    request.transport.close()  # the order went through; its answer never comes back
                    raise ConnectionResetError("answer dropped")
                return web.Response(body=payload, status=answer.status, headers={
                    k: v for k, v in answer.headers.items() if k.lower() in ("content-type", "retry-after")
                })  # fmt: skip

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", forward)
        self._runner = runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]  # noqa: SLF001
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        await self._session.close()
        await self._runner.cleanup()  # type: ignore[attr-defined]


def test_an_order_whose_answer_is_lost_is_found_by_client_order_id_not_sent_twice(simulator: SimulatorThread) -> None:
    symbol, price_scale, size_scale, price, size = requests_for(simulator)

    async def scenario() -> None:
        proxy = AnswerLosingProxy(simulator.urls["binance"].rest)
        await proxy.start()
        entry = CcxtOrderEntry("binance", "sim", "binance", ccxt_options(proxy.url))
        try:
            placed = await entry.place(order("lost-1", symbol, price_scale, size_scale, price, size))
            assert proxy.dropped == 1
            assert placed.status is OrderStatus.NEW and placed.exchange_order_id
        finally:
            await entry.close()
            await proxy.stop()

    asyncio.run(scenario())
    arrivals = [o for o in simulator.ground_truth.orders("binance") if o.client_order_id == "lost-1"]
    assert len(arrivals) == 1 and arrivals[0].error_code == 0  # reached the exchange once, accepted
