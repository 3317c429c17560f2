"""``ccxt.okx`` (async) and ``ccxt.pro.okx``, unchanged but for their URLs, trade against the simulated OKX.

ccxt's ``urls.api.rest`` and ``urls.api.ws`` point at the simulator; ``fetchMarkets`` asks
for spot only and ``has.fetchCurrencies`` is off (ccxt would call ``asset/currencies``,
which the simulator does not serve). ccxt places orders through ``batch-orders`` and
fetches its trades from ``fills-history``, as against the real OKX.
"""

from __future__ import annotations

import asyncio
from typing import Any

import ccxt
import ccxt.async_support as ccxt_async
import ccxt.pro as ccxtpro
import pytest

from platform_streams.simulator import DEFAULT_API_KEY, DEFAULT_API_PASSPHRASE, DEFAULT_API_SECRET, SimulatorThread
from tests.waiting import wait_until_async


def okx_options(simulator: SimulatorThread) -> dict[str, Any]:
    urls = simulator.urls["okx"]
    return {
        "urls": {"api": {"rest": urls.rest, "ws": f"{urls.websocket}/ws/v5"}},
        "options": {"fetchMarkets": {"types": ["spot"]}},
        "has": {"fetchCurrencies": False},
        "apiKey": DEFAULT_API_KEY,
        "secret": DEFAULT_API_SECRET,
        "password": DEFAULT_API_PASSPHRASE,
        "timeout": 10_000,
    }


@pytest.fixture
def okx_simulator(simulator_factory: Any) -> SimulatorThread:
    return simulator_factory(exchanges=["okx"])


def usdt_market(exchange: ccxt_async.okx) -> str:
    return next(symbol for symbol, market in exchange.markets.items() if market["quote"] == "USDT")


def test_async_client_round_trip(okx_simulator: SimulatorThread) -> None:
    async def scenario() -> None:
        exchange = ccxt_async.okx(okx_options(okx_simulator))
        try:
            markets = await exchange.load_markets()
            symbol = usdt_market(exchange)
            market = markets[symbol]
            assert (await exchange.fetch_balance())["USDT"]["free"] == 1_000_000
            book = await exchange.fetch_order_book(symbol)
            price = float(exchange.price_to_precision(symbol, book["bids"][0][0] * 0.9))
            amount = float(exchange.amount_to_precision(symbol, max(market["limits"]["amount"]["min"], 30 / price)))

            order = await exchange.create_order(symbol, "limit", "buy", amount, price, {"clientOrderId": "ccxtOkx1"})
            assert order["clientOrderId"] == "ccxtOkx1"
            fetched = await exchange.fetch_order(order["id"], symbol)
            assert (fetched["status"], fetched["price"], fetched["amount"], fetched["clientOrderId"]) == (
                "open",
                price,
                amount,
                "ccxtOkx1",
            )
            by_client_id = await exchange.fetch_order(None, symbol, {"clOrdId": "ccxtOkx1"})
            assert by_client_id["id"] == order["id"]
            assert [o["id"] for o in await exchange.fetch_open_orders(symbol)] == [order["id"]]
            assert (await exchange.fetch_balance())["USDT"]["used"] > 0
            with pytest.raises(ccxt.InvalidOrder, match="51016"):
                await exchange.create_order(symbol, "limit", "buy", amount, price, {"clientOrderId": "ccxtOkx1"})
            await exchange.cancel_order(order["id"], symbol)
            assert (await exchange.fetch_order(order["id"], symbol))["status"] == "canceled"
            with pytest.raises(ccxt.OrderNotFound):
                await exchange.cancel_order(order["id"], symbol)
            with pytest.raises(ccxt.OrderNotFound):
                await exchange.fetch_order("12345", symbol)

            filled = await exchange.create_order(symbol, "market", "buy", amount)  # ccxt sends tgtCcy=base_ccy
            closed = await exchange.fetch_order(filled["id"], symbol)
            assert closed["status"] == "closed" and closed["filled"] == amount and closed["fee"]["currency"] == market["base"]
            trades = await exchange.fetch_my_trades(symbol)
            assert {t["order"] for t in trades} == {filled["id"]}
            assert sum(t["amount"] for t in trades) == pytest.approx(amount)
            with pytest.raises(ccxt.InsufficientFunds):
                await exchange.create_order(symbol, "limit", "buy", market["limits"]["amount"]["max"], price)
        finally:
            await exchange.close()

    asyncio.run(scenario())


def test_pro_client_watches_orders_and_my_trades(okx_simulator: SimulatorThread) -> None:
    async def scenario() -> tuple[float, dict, list[dict], list[dict]]:
        exchange = ccxtpro.okx(okx_options(okx_simulator))
        try:
            await exchange.load_markets()
            symbol = usdt_market(exchange)
            market = exchange.markets[symbol]
            orders_watch = asyncio.ensure_future(exchange.watch_orders(symbol))
            trades_watch = asyncio.ensure_future(exchange.watch_my_trades(symbol))
            await wait_until_async(
                lambda: len(okx_simulator.call(subscribed_connections, okx_simulator)) >= 1, what="the orders subscription"
            )
            book = await exchange.fetch_order_book(symbol)
            amount = float(exchange.amount_to_precision(symbol, max(market["limits"]["amount"]["min"], 30 / book["asks"][0][0])))
            order = await exchange.create_order(symbol, "market", "buy", amount, None, {"clientOrderId": "proOkx1"})
            # what the pushes left in ccxt's caches (a push between two watch calls resolves no
            # future, so waiting on the next watch could wait for a push that already came)
            await wait_until_async(
                lambda: any(o["id"] == order["id"] and o["status"] == "closed" for o in (exchange.orders or [])),
                30, "the order's closing push",
            )  # fmt: skip
            await wait_until_async(
                lambda: sum(t["amount"] for t in (exchange.myTrades or [])) >= amount * (1 - 1e-9), 30, "every trade pushed"
            )
            for watch in (orders_watch, trades_watch):
                watch.cancel()
            return amount, order, list(exchange.orders), list(exchange.myTrades)
        finally:
            await exchange.close()

    amount, order, seen, trades = asyncio.run(scenario())
    assert {o["id"] for o in seen} == {order["id"]} and {o["clientOrderId"] for o in seen} == {"proOkx1"}
    assert seen[-1]["status"] == "closed" and seen[-1]["filled"] == pytest.approx(amount)
    assert {t["order"] for t in trades} == {order["id"]} and all(t["takerOrMaker"] == "taker" for t in trades)


def subscribed_connections(simulator: SimulatorThread) -> list[object]:
    """Private connections with an ``orders`` subscription (read on the simulator's loop)."""
    return [c for c in simulator.simulator.venues["okx"].user_stream.connections if c.subscriptions]
