"""``ccxt.binance``, unchanged but for its URLs, trades against the simulator: sync and async clients.

The sync client runs in the test's thread and the async one on the test's own
loop; the simulator serves from its own thread and loop (never the caller's).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import ccxt
import ccxt.async_support as ccxt_async
import pytest

from platform_streams.simulator import SimulatorThread
from tests.simulator.binance_rest import call
from tests.simulator.conftest import ccxt_options
from tests.simulator.stream_client import connect, receive_until
from tests.waiting import wait_until


def usdt_market(exchange: ccxt.binance) -> str:
    return next(symbol for symbol, market in exchange.markets.items() if market["quote"] == "USDT")


def test_sync_client_loads_markets_trades_and_cancels(sync_binance: ccxt.binance) -> None:
    markets = sync_binance.load_markets()
    assert len(markets) == 30 and all(m["spot"] and m["active"] for m in markets.values())
    symbol = usdt_market(sync_binance)
    market = markets[symbol]
    book = sync_binance.fetch_order_book(symbol, limit=100)
    assert len(book["bids"]) >= 50 and book["bids"][0][0] < book["asks"][0][0] and book["nonce"] > 0
    candles = sync_binance.fetch_ohlcv(symbol, "1m", limit=10)
    assert len(candles) == 10 and all(c[3] <= c[2] for c in candles)
    public_trades = wait_until(lambda: sync_binance.fetch_trades(symbol, limit=50), what="public trades")
    assert all(t["price"] > 0 and t["side"] in ("buy", "sell") for t in public_trades)
    balance = sync_binance.fetch_balance()
    assert balance["USDT"]["free"] == 1_000_000

    price = float(sync_binance.price_to_precision(symbol, book["bids"][0][0] * 0.95))
    amount = float(
        sync_binance.amount_to_precision(
            symbol, max(market["limits"]["cost"]["min"] * 3 / price, market["limits"]["amount"]["min"])
        )
    )
    order = sync_binance.create_order(symbol, "limit", "buy", amount, price)
    assert order["status"] == "open" and order["price"] == price and order["amount"] == amount
    assert sync_binance.fetch_order(order["id"], symbol)["status"] == "open"
    assert [o["id"] for o in sync_binance.fetch_open_orders(symbol)] == [order["id"]]
    assert sync_binance.fetch_balance()["USDT"]["used"] > 0
    assert sync_binance.cancel_order(order["id"], symbol)["status"] == "canceled"
    assert sync_binance.fetch_order(order["id"], symbol)["status"] == "canceled"
    with pytest.raises(ccxt.OrderNotFound):
        sync_binance.cancel_order(order["id"], symbol)

    filled = sync_binance.create_order(symbol, "market", "buy", amount)
    assert filled["status"] == "closed" and filled["filled"] == amount and filled["trades"]
    trades = sync_binance.fetch_my_trades(symbol)
    assert {t["order"] for t in trades} == {filled["id"]} and sum(t["amount"] for t in trades) == pytest.approx(amount)
    assert sync_binance.fetch_balance()[market["base"]]["free"] > 0
    with pytest.raises(ccxt.InsufficientFunds):
        sync_binance.create_order(symbol, "limit", "buy", amount * 10**6, price)
    with pytest.raises(ccxt.BadSymbol):
        sync_binance.publicGetTickerPrice({"symbol": "NOPEUSDT"})


def test_sync_client_gets_429_with_retry_after(simulator_factory: Callable[..., SimulatorThread]) -> None:
    simulator = simulator_factory(binance={"rest": {"request_weight": 80}})
    exchange = ccxt.binance(ccxt_options(simulator.urls["binance"].rest))
    exchange.load_markets()  # weight 20
    symbol = usdt_market(exchange)
    with pytest.raises(ccxt.DDoSProtection, match="429"):
        for _ in range(30):
            exchange.fetch_order_book(symbol, limit=100)  # weight 5 each
    assert int(exchange.last_response_headers["Retry-After"]) >= 1
    assert int(exchange.last_response_headers["X-MBX-USED-WEIGHT-1M"]) > 80


def test_async_client_and_user_data_execution_reports(live_simulator: SimulatorThread) -> None:
    rest, websocket = live_simulator.urls["binance"].rest, live_simulator.urls["binance"].websocket

    async def scenario() -> tuple[dict, list[dict]]:
        exchange = ccxt_async.binance(ccxt_options(rest))
        try:
            markets = await exchange.load_markets()
            symbol = usdt_market(exchange)
            market = markets[symbol]
            book = await exchange.fetch_order_book(symbol)
            assert book["bids"][0][0] < book["asks"][0][0]
            assert len(await exchange.fetch_ohlcv(symbol, "5m", limit=20)) == 20
            listen_key = (await asyncio.to_thread(call, rest, "POST", "/api/v3/userDataStream")).body["listenKey"]
            async with connect(f"{websocket}/ws/{listen_key}") as user_stream:
                price = book["asks"][0][0]
                amount = float(
                    exchange.amount_to_precision(
                        symbol, max(market["limits"]["cost"]["min"] * 3 / price, market["limits"]["amount"]["min"])
                    )
                )
                order = await exchange.create_order(symbol, "market", "buy", amount)
                frames = await receive_until(
                    user_stream,
                    lambda fs: (
                        sum('"x":"TRADE"' in f for f in fs) >= len(order["trades"]) and '"outboundAccountPosition"' in fs[-1]
                    ),
                )
            half = float(exchange.amount_to_precision(symbol, amount / 2))  # the buy's fee was paid in the base asset
            resting = await exchange.create_order(
                symbol, "limit", "sell", half, float(exchange.price_to_precision(symbol, price * 1.5))
            )
            assert (await exchange.fetch_order(resting["id"], symbol))["status"] == "open"
            assert (await exchange.cancel_order(resting["id"], symbol))["status"] == "canceled"
            assert (await exchange.fetch_balance())[market["base"]]["free"] > 0
            return order, [json.loads(f) for f in frames]
        finally:
            await exchange.close()

    order, events = asyncio.run(scenario())
    reports = [e for e in events if e["e"] == "executionReport"]
    assert reports[0]["x"] == "NEW" and reports[0]["i"] == int(order["id"])
    trades = [r for r in reports if r["x"] == "TRADE"]
    assert trades and trades[-1]["X"] == "FILLED" and trades[-1]["z"] == trades[-1]["q"]
    assert [r["t"] for r in trades] == [int(t["id"]) for t in order["trades"]]
    assert list(reports[0])[:8] == ["e", "E", "s", "c", "S", "o", "f", "q"] and reports[0]["N"] is None
    positions = [e for e in events if e["e"] == "outboundAccountPosition"]
    assert positions and {"a", "f", "l"} == set(positions[-1]["B"][0])
    emitted = live_simulator.ground_truth.events("binance", "executionReport")
    assert len(emitted) >= len(reports)
