"""``ccxt.kraken`` (async) and ``ccxt.pro.kraken``, unchanged but for their URLs, trade against the simulated Kraken.

ccxt's ``urls.api.public`` / ``private`` (and ``ws``) point at the simulator and
``has.fetchCurrencies`` is off (ccxt would call ``/0/public/Assets``, which the
simulator does not serve). The API secret is the account's secret in base64, as
Kraken hands out secrets (``kraken.auth.client_secret``).
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import ccxt
import ccxt.async_support as ccxt_async
import ccxt.pro as ccxtpro
import pytest

from platform_streams.simulator import DEFAULT_API_KEY, DEFAULT_API_SECRET, SimulatorThread
from platform_streams.simulator.kraken.auth import client_secret
from tests.waiting import wait_until_async


def kraken_options(simulator: SimulatorThread) -> dict[str, Any]:
    urls = simulator.urls["kraken"]
    return {
        "urls": {
            "api": {
                "public": urls.rest,
                "private": urls.rest,
                "ws": {
                    "public": urls.websocket,
                    "private": urls.websocket,
                    "publicV2": f"{urls.websocket}/v2",
                    "privateV2": f"{urls.websocket}/auth/v2",
                },  # fmt: skip
            }
        },
        "has": {"fetchCurrencies": False},
        "enableRateLimit": False,  # ccxt's own throttle waits seconds per call; the simulator's counters still apply
        "apiKey": DEFAULT_API_KEY,
        "secret": client_secret(DEFAULT_API_SECRET),
        "timeout": 10_000,
    }


@pytest.fixture
def kraken_simulator(simulator_factory: Any) -> SimulatorThread:
    return simulator_factory(exchanges=["kraken"])


def lot_aligned_amount(
    simulator: SimulatorThread, exchange: ccxt_async.kraken, symbol: str, notional: float, price: float
) -> float:
    """At least ``notional`` worth on the instrument's lot grid (Kraken lists 8 lot decimals; the simulator's lots are coarser)."""
    venue = simulator.simulator.venues["kraken"]
    spec = venue.market.instruments[venue.pairs.by_any_name(exchange.markets[symbol]["id"])]
    lot = Decimal(spec.lot) / 10**8
    wanted = max(Decimal(str(notional / price)), Decimal(str(exchange.markets[symbol]["limits"]["amount"]["min"])))
    return float((wanted // lot + 1) * lot)


def usdt_market(exchange: ccxt_async.kraken) -> str:
    return next(symbol for symbol, market in exchange.markets.items() if market["quote"] == "USDT")


def test_async_client_round_trip(kraken_simulator: SimulatorThread) -> None:
    async def scenario() -> None:
        exchange = ccxt_async.kraken(kraken_options(kraken_simulator))
        try:
            await exchange.load_markets()
            symbol = usdt_market(exchange)
            assert (await exchange.fetch_balance())["USDT"]["free"] == 1_000_000
            book = await exchange.fetch_order_book(symbol)
            price = float(exchange.price_to_precision(symbol, book["bids"][0][0] * 0.9))
            amount = lot_aligned_amount(kraken_simulator, exchange, symbol, 30, price)

            order = await exchange.create_order(symbol, "limit", "buy", amount, price, {"cl_ord_id": "ccxtKraken1"})
            fetched = await exchange.fetch_order(order["id"], symbol)
            assert (fetched["status"], fetched["price"], fetched["amount"], fetched["clientOrderId"]) == ("open", price, amount, "ccxtKraken1")  # fmt: skip
            assert [o["id"] for o in await exchange.fetch_open_orders(symbol)] == [order["id"]]
            assert (await exchange.fetch_balance())["USDT"]["used"] > 0
            with pytest.raises(ccxt.ExchangeError, match="Duplicate cl_ord_id"):
                await exchange.create_order(symbol, "limit", "buy", amount, price, {"cl_ord_id": "ccxtKraken1"})
            await exchange.cancel_order(None, symbol, {"cl_ord_id": "ccxtKraken1"})
            assert (await exchange.fetch_order(order["id"], symbol))["status"] == "canceled"
            with pytest.raises(ccxt.OrderNotFound):
                await exchange.cancel_order(order["id"], symbol)

            filled = await exchange.create_order(symbol, "market", "buy", amount)
            closed = await exchange.fetch_order(filled["id"], symbol)
            assert closed["status"] == "closed" and closed["filled"] == amount
            trades = await exchange.fetch_my_trades(symbol)
            assert {t["order"] for t in trades} == {filled["id"]}
            assert sum(t["amount"] for t in trades) == pytest.approx(amount)
            with pytest.raises(ccxt.InsufficientFunds):
                await exchange.create_order(
                    symbol, "limit", "buy", lot_aligned_amount(kraken_simulator, exchange, symbol, 2_000_000, price), price
                )
        finally:
            await exchange.close()

    asyncio.run(scenario())


def test_pro_client_watches_orders_and_my_trades(kraken_simulator: SimulatorThread) -> None:
    venue = kraken_simulator.simulator.venues["kraken"]

    async def scenario() -> tuple[float, dict, list[dict], list[dict]]:
        exchange = ccxtpro.kraken(kraken_options(kraken_simulator))
        try:
            await exchange.load_markets()
            symbol = usdt_market(exchange)
            orders_watch = asyncio.ensure_future(exchange.watch_orders(symbol))
            trades_watch = asyncio.ensure_future(exchange.watch_my_trades(symbol))
            await wait_until_async(
                lambda: any(c.account for c in list(venue.user_stream.connections)), what="the executions subscription"
            )
            book = await exchange.fetch_order_book(symbol)
            amount = lot_aligned_amount(kraken_simulator, exchange, symbol, 30, book["asks"][0][0])
            order = await exchange.create_order(symbol, "market", "buy", amount, None, {"cl_ord_id": "proKraken1"})
            # what the pushes left in ccxt's caches (a push between two watch calls resolves no
            # future, so waiting on the next watch could wait for a push that already came)
            await wait_until_async(
                lambda: any(o["id"] == order["id"] and o["status"] == "closed" for o in (exchange.orders or [])),
                30, "the order's closing push",
            )  # fmt: skip
            await wait_until_async(
                lambda: sum(t["amount"] for t in (exchange.myTrades or []) if t["order"] == order["id"]) >= amount * (1 - 1e-9),
                30, "every trade of the order pushed",
            )  # fmt: skip
            for watch in (orders_watch, trades_watch):
                watch.cancel()
            return amount, order, list(exchange.orders), list(exchange.myTrades)
        finally:
            await exchange.close()

    amount, order, seen, trades = asyncio.run(scenario())
    mine = [o for o in seen if o["id"] == order["id"]]
    assert mine[-1]["status"] == "closed" and mine[-1]["info"]["cl_ord_id"] == "proKraken1"
    fills = [t for t in trades if t["order"] == order["id"]]
    assert sum(t["amount"] for t in fills) == pytest.approx(amount) and all(t["takerOrMaker"] == "taker" for t in fills)
    recorded = kraken_simulator.ground_truth.events("kraken", "executions")
    assert {int(t["info"]["trade_id"]) for t in fills} <= set(recorded.first_id.tolist())
