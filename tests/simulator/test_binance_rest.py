"""The simulated Binance REST API: public endpoints, request weight limits, signatures and order errors."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal

from platform_streams.simulator import SimulatorThread
from tests.simulator.binance_rest import Reply, call
from tests.waiting import wait_until


def symbol_rules(rest: str, symbol: str) -> dict[str, dict]:
    info = call(rest, "GET", "/api/v3/exchangeInfo", {"symbol": symbol}).body
    return {f["filterType"]: f for f in info["symbols"][0]["filters"]}


def usdt_symbol(rest: str) -> str:
    return next(s["symbol"] for s in call(rest, "GET", "/api/v3/exchangeInfo").body["symbols"] if s["quoteAsset"] == "USDT")


def order_quantity(rules: dict[str, dict], price: Decimal, notional_multiple: int = 3) -> Decimal:
    """A quantity on the lot grid worth about ``notional_multiple`` times the minimum notional."""
    step = Decimal(rules["LOT_SIZE"]["stepSize"])
    return max(
        step, (Decimal(rules["MIN_NOTIONAL"]["minNotional"]) * notional_multiple / price / step).to_integral_value() * step
    )


def best_prices(rest: str, symbol: str) -> tuple[Decimal, Decimal]:
    book = call(rest, "GET", "/api/v3/ticker/bookTicker", {"symbol": symbol}).body
    return Decimal(book["bidPrice"]), Decimal(book["askPrice"])


def test_public_market_endpoints(live_simulator: SimulatorThread) -> None:
    rest = live_simulator.urls["binance"].rest
    assert call(rest, "GET", "/api/v3/ping").body == {}
    assert abs(call(rest, "GET", "/api/v3/time").body["serverTime"] - time.time() * 1000) < 5000
    info = call(rest, "GET", "/api/v3/exchangeInfo").body
    assert len(info["symbols"]) == 30 and info["symbols"][0]["status"] == "TRADING"
    symbol = info["symbols"][1]["symbol"]
    assert call(rest, "GET", "/api/v3/exchangeInfo", {"symbols": f'["{symbol}"]'}).body["symbols"][0]["symbol"] == symbol
    assert call(rest, "GET", "/api/v3/exchangeInfo", {"symbol": "NOPEUSDT"}).body == {"code": -1121, "msg": "Invalid symbol."}
    klines = call(rest, "GET", "/api/v3/klines", {"symbol": symbol, "interval": "1m", "limit": 5}).body
    assert len(klines) == 5 and all(len(row) == 12 for row in klines)
    assert [row[0] for row in klines] == sorted(row[0] for row in klines)
    assert all(
        Decimal(row[3]) <= min(Decimal(row[1]), Decimal(row[4])) <= max(Decimal(row[1]), Decimal(row[4])) <= Decimal(row[2])
        for row in klines
    )
    hourly = call(
        rest,
        "GET",
        "/api/v3/klines",
        {"symbol": symbol, "interval": "1h", "startTime": klines[0][0] - 10 * 3_600_000, "limit": 3},
    ).body
    assert [row[0] for row in hourly][1] - hourly[0][0] == 3_600_000
    assert call(rest, "GET", "/api/v3/klines", {"symbol": symbol, "interval": "7m"}).body == {
        "code": -1120,
        "msg": "Invalid interval.",
    }
    price = call(rest, "GET", "/api/v3/ticker/price", {"symbol": symbol}).body
    bid, ask = best_prices(rest, symbol)
    assert price["symbol"] == symbol and bid < ask
    assert len(call(rest, "GET", "/api/v3/ticker/price").body) == 30
    trades = wait_until(lambda: call(rest, "GET", "/api/v3/trades", {"symbol": symbol, "limit": 20}).body, what="a first trade")
    assert len(trades) <= 20 and [t["id"] for t in trades] == sorted(t["id"] for t in trades)
    aggregates = call(rest, "GET", "/api/v3/aggTrades", {"symbol": symbol, "fromId": 0, "limit": 5}).body
    assert 1 <= len(aggregates) <= 5 and list(aggregates[0]) == ["a", "p", "q", "f", "l", "T", "m", "M"]
    stats = call(rest, "GET", "/api/v3/ticker/24hr", {"symbol": symbol}).body
    assert Decimal(stats["lowPrice"]) <= Decimal(stats["lastPrice"]) <= Decimal(stats["highPrice"]) and stats["count"] > 0


def test_request_weight_limit_answers_429_then_418(simulator_factory: Callable[..., SimulatorThread]) -> None:
    simulator = simulator_factory(binance={"rest": {"request_weight": 60, "rejections_before_ban": 2, "ban_seconds": 30}})
    rest = simulator.urls["binance"].rest
    replies: list[Reply] = []
    while not replies or replies[-1].status == 200:
        replies.append(call(rest, "GET", "/api/v3/exchangeInfo"))  # weight 20
        assert len(replies) < 50
    limited = replies[-1]
    used = [int(r.headers["X-MBX-USED-WEIGHT-1M"]) for r in replies[:-1]]
    assert used == sorted(used) and used[-1] <= 60
    if len(replies) < 3:  # a new minute began mid-test: the first window's count was reset
        assert used[0] == 20
    assert limited.status == 429 and limited.body["code"] == -1003
    assert limited.body["msg"].startswith("Too much request weight used; current limit is 60 request weight per 1 MINUTE.")
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    after = [call(rest, "GET", "/api/v3/ping") for _ in range(3)]
    assert [r.status for r in after] == [429, 418, 418] or after[-1].status == 418
    banned = after[-1]
    assert (
        banned.body["code"] == -1003 and "IP banned until" in banned.body["msg"] and 1 <= int(banned.headers["Retry-After"]) <= 30
    )


def test_signed_requests_are_checked_like_binance(live_simulator: SimulatorThread) -> None:
    rest = live_simulator.urls["binance"].rest
    assert call(rest, "GET", "/api/v3/account", signed=True).status == 200
    assert call(rest, "GET", "/api/v3/account", signed=True, api_key=None).body == {
        "code": -2014,
        "msg": "API-key format invalid.",
    }
    unknown = call(rest, "GET", "/api/v3/account", signed=True, api_key="someoneElse")
    assert unknown.status == 401 and unknown.body == {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."}
    assert call(rest, "GET", "/api/v3/account", signed=True, signature="0" * 64).body == {
        "code": -1022,
        "msg": "Signature for this request is not valid.",
    }
    assert call(rest, "GET", "/api/v3/account", signed=True, secret="wrong").body["code"] == -1022
    stale = call(rest, "GET", "/api/v3/account", signed=True, timestamp_ms=int(time.time() * 1000) - 10_000)
    assert stale.body == {"code": -1021, "msg": "Timestamp for this request is outside of the recvWindow."}
    ahead = call(rest, "GET", "/api/v3/account", signed=True, timestamp_ms=int(time.time() * 1000) + 5_000)
    assert ahead.body == {"code": -1021, "msg": "Timestamp for this request was 1000ms ahead of the server's time."}
    assert (
        call(
            rest, "GET", "/api/v3/account", {"recvWindow": 20_000}, signed=True, timestamp_ms=int(time.time() * 1000) - 10_000
        ).status
        == 200
    )


def test_order_errors_have_binance_codes(live_simulator: SimulatorThread) -> None:
    rest = live_simulator.urls["binance"].rest
    symbol = usdt_symbol(rest)
    rules = symbol_rules(rest, symbol)
    step, tick = Decimal(rules["LOT_SIZE"]["stepSize"]), Decimal(rules["PRICE_FILTER"]["tickSize"])
    bid, _ = best_prices(rest, symbol)
    price = (bid * Decimal("0.95") / tick).to_integral_value() * tick
    order = {"symbol": symbol, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "price": f"{price:f}"}
    quantity = f"{order_quantity(rules, price):f}"
    too_much = f"{(Decimal(2_000_000) / price / step).to_integral_value() * step:f}"

    def place(**changes: str) -> Reply:
        return call(rest, "POST", "/api/v3/order", {**order, **changes}, signed=True)

    assert place(symbol="NOPEUSDT", quantity="1").body == {"code": -1121, "msg": "Invalid symbol."}
    assert place(quantity=f"{step / 2:f}").body == {"code": -1013, "msg": "Filter failure: LOT_SIZE"}
    assert place(quantity=quantity, price=f"{price + tick / 2:f}").body == {"code": -1013, "msg": "Filter failure: PRICE_FILTER"}
    assert place(quantity=f"{step:f}").body == {"code": -1013, "msg": "Filter failure: MIN_NOTIONAL"}
    assert place(quantity=too_much).body == {"code": -2010, "msg": "Account has insufficient balance for requested action."}
    assert place(quantity=quantity, side="HOLD").body == {"code": -1117, "msg": "Invalid side."}
    assert place(quantity="0.123456789").body == {"code": -1111, "msg": "Parameter 'quantity' has too much precision."}
    first = place(quantity=quantity, newClientOrderId="mine-1")
    assert first.status == 200 and first.body["status"] == "NEW" and first.body["clientOrderId"] == "mine-1"
    assert "X-MBX-ORDER-COUNT-10S" in first.headers
    assert place(quantity=quantity, newClientOrderId="mine-1").body == {"code": -2010, "msg": "Duplicate order sent."}
    assert call(rest, "GET", "/api/v3/order", {"symbol": symbol, "orderId": 1}, signed=True).body == {
        "code": -2013,
        "msg": "Order does not exist.",
    }
    assert call(rest, "DELETE", "/api/v3/order", {"symbol": symbol, "orderId": 1}, signed=True).body == {
        "code": -2011,
        "msg": "Unknown order sent.",
    }
    canceled = call(rest, "DELETE", "/api/v3/order", {"symbol": symbol, "origClientOrderId": "mine-1"}, signed=True)
    assert canceled.body["status"] == "CANCELED" and canceled.body["origClientOrderId"] == "mine-1"
    assert (
        call(rest, "DELETE", "/api/v3/order", {"symbol": symbol, "origClientOrderId": "mine-1"}, signed=True).body["code"]
        == -2011
    )
    assert place(quantity=quantity, newClientOrderId="mine-1").status == 200  # reusable once the first one is closed
    arrivals = live_simulator.ground_truth.orders("binance")
    assert len(arrivals) == 10 and [a.error_code for a in arrivals][-3:] == [0, -2010, 0]
    assert all(a.arrival_ns > 0 and a.account == "simulatorApiKey" for a in arrivals[1:])


def test_order_rate_limit(simulator_factory: Callable[..., SimulatorThread]) -> None:
    simulator = simulator_factory(binance={"rest": {"orders": 3}})
    rest = simulator.urls["binance"].rest
    symbol = usdt_symbol(rest)
    bid, _ = best_prices(rest, symbol)
    rules = symbol_rules(rest, symbol)
    tick = Decimal(rules["PRICE_FILTER"]["tickSize"])
    price = (bid * Decimal("0.9") / tick).to_integral_value() * tick
    order = {
        "symbol": symbol,
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": f"{order_quantity(rules, price):f}",
        "price": f"{price:f}",
    }
    replies = [call(rest, "POST", "/api/v3/order", order, signed=True) for _ in range(4)]
    if replies[-1].status == 200:  # the 10-second window turned over mid-test: the next ones must hit the limit
        replies += [call(rest, "POST", "/api/v3/order", order, signed=True) for _ in range(3)]
    refused = replies[-1]
    assert refused.status == 429 and "Retry-After" not in refused.headers
    assert refused.body == {"code": -1015, "msg": "Too many new orders; current limit is 3 orders per 10 SECOND."}


def test_listen_keys_are_created_kept_alive_and_closed(live_simulator: SimulatorThread) -> None:
    rest = live_simulator.urls["binance"].rest
    key = call(rest, "POST", "/api/v3/userDataStream").body["listenKey"]
    assert len(key) == 64 and call(rest, "POST", "/api/v3/userDataStream").body["listenKey"] == key  # one per account
    assert call(rest, "PUT", "/api/v3/userDataStream", {"listenKey": key}).body == {}
    assert call(rest, "POST", "/api/v3/userDataStream", api_key=None).body["code"] == -2014
    assert call(rest, "DELETE", "/api/v3/userDataStream", {"listenKey": key}).body == {}
    assert call(rest, "PUT", "/api/v3/userDataStream", {"listenKey": key}).body == {
        "code": -1125,
        "msg": "This listenKey does not exist.",
    }
    assert call(rest, "POST", "/api/v3/userDataStream").body["listenKey"] != key


def test_rate_limit_fault_refuses_orders_with_the_order_count_reply(simulator_factory: Callable[..., SimulatorThread]) -> None:
    simulator = simulator_factory()
    rest = simulator.urls["binance"].rest
    symbol = usdt_symbol(rest)
    bid, _ = best_prices(rest, symbol)
    rules = symbol_rules(rest, symbol)
    tick = Decimal(rules["PRICE_FILTER"]["tickSize"])
    price = (bid * Decimal("0.9") / tick).to_integral_value() * tick
    order = {"symbol": symbol, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": f"{order_quantity(rules, price):f}", "price": f"{price:f}"}  # fmt: skip
    storm = simulator.inject_fault(kind="rate_limit", exchange="binance", count=2)
    replies = [call(rest, "POST", "/api/v3/order", order, signed=True) for _ in range(3)]
    assert [(r.status, r.body.get("code")) for r in replies[:2]] == [(429, -1015), (429, -1015)]
    assert replies[2].status == 200 and replies[2].body["status"] == "NEW"
    assert len(simulator.ground_truth.faults("binance", "rate_limit")) == 2
    assert [a.error_code for a in simulator.ground_truth.orders("binance")] == [-1015, -1015, 0]
    report = simulator.accounts()["binance"][0]
    assert [o["order_id"] for o in report["orders"]] == [replies[2].body["orderId"]] and storm
