"""Each venue's private-stream frames (as Binance, OKX and Kraken send them, and the simulator
renders them) parsed into order and trade reports exactly, refusals raised; and the reports at an
order's own scales as the same updates and fills the REST road makes."""

from __future__ import annotations

import orjson
import pytest

from platform_streams.exchanges.binance.user_stream import BinanceUserStream
from platform_streams.exchanges.kraken.user_stream import KrakenUserStream
from platform_streams.exchanges.okx.user_stream import OkxUserStream
from platform_streams.exchanges.user_stream import OrderReport, TradeReport, UserStreamError, UserStreamSettings
from platform_streams.execution.stream_reports import ReportError, fill_of, order_update_of
from platform_streams.schemas import Liquidity, OrderRequest, OrderStatus, OrderType, Side, TimeInForce

BINANCE_TRADE = (
    '{"e":"executionReport","E":1700000002970,"s":"DOTUSDT","c":"c1","S":"BUY","o":"LIMIT","f":"GTC",'
    '"q":"2.30000000","p":"6.49740000","P":"0.00000000","F":"0.00000000","g":-1,"C":"","x":"TRADE",'
    '"X":"PARTIALLY_FILLED","r":"NONE","i":1000000,"l":"1.10000000","z":"1.10000000","L":"6.49740000",'
    '"n":"0.00110000","N":"DOT","T":1700000002971,"t":43280136,"I":5,"w":false,"m":true,"M":false,'
    '"O":1700000002960,"Z":"7.14714000","Y":"7.14714000","Q":"0.00000000"}'
)
OKX_FILL = {
    "accFillSz": "0.0051", "avgPx": "2998.4", "cTime": "1700000001360", "clOrdId": "c1", "fillFee": "-0.0000051",
    "fillFeeCcy": "ETH", "fillPx": "2998.4", "fillSz": "0.0051", "fillTime": "1700000001362", "instId": "ETH-USDT",
    "ordId": "1000000", "side": "buy", "state": "filled", "tradeId": "273269504", "execType": "M", "uTime": "1700000001362",
}  # fmt: skip
KRAKEN_TRADE = (
    '{"channel":"executions","type":"update","data":[{"order_id":"OAAAAA-AAAAA-AA6QSA","symbol":"ETH/EUR",'
    '"order_qty":0.0054,"cum_qty":0.0054,"cum_cost":15.00714,"side":"buy","order_type":"limit","time_in_force":"GTC",'
    '"order_userref":0,"order_status":"filled","fee_ccy_pref":"fcib","timestamp":"2023-11-14T22:13:21.630000Z",'
    '"limit_price":2779.1,"cl_ord_id":"c1","avg_price":2779.1,"exec_type":"trade","exec_id":"TAAAAA-AAUUS-2LFKUA",'
    '"trade_id":7,"last_qty":0.0054,"last_price":2779.1,"cost":15.00714,"liquidity_ind":"t",'
    '"fees":[{"asset":"EUR","qty":0.00000001}]}],"sequence":3}'
)


def test_binance_execution_reports() -> None:
    stream = BinanceUserStream(UserStreamSettings(credentials={"apiKey": "k"}))
    (order, trade) = stream.parse(BINANCE_TRADE).reports
    assert order == OrderReport(
        client_order_id="c1", exchange_order_id="1000000", status=OrderStatus.PARTIALLY_FILLED, filled="1.10000000",
        exchange_ts_ns=1700000002970 * 10**6,
    )  # fmt: skip
    assert trade == TradeReport(
        fill_id="43280136", client_order_id="c1", exchange_order_id="1000000", side=Side.BUY, price="6.49740000",
        size="1.10000000", fee="0.00110000", fee_asset="DOT", liquidity=Liquidity.MAKER, exchange_ts_ns=1700000002971 * 10**6,
    )  # fmt: skip
    canceled = orjson.loads(BINANCE_TRADE) | {"x": "CANCELED", "X": "CANCELED", "c": "cancel-7", "C": "c1", "z": "0.00000000"}
    (report,) = stream.parse(orjson.dumps(canceled).decode()).reports
    assert (report.client_order_id, report.status, report.filled) == ("c1", OrderStatus.CANCELED, "0.00000000")
    assert stream.parse('{"e":"outboundAccountPosition","E":1,"u":1,"B":[]}').reports == []
    assert not stream.acknowledges_subscription  # the listenKey in the URL is the subscription
    with pytest.raises(UserStreamError, match="listenKey expired"):
        stream.parse('{"e":"listenKeyExpired","E":1,"listenKey":"x"}')


def test_okx_login_then_subscription_then_order_pushes() -> None:
    stream = OkxUserStream(UserStreamSettings(credentials={"apiKey": "k", "secret": "s", "password": "p"}))
    (login,) = stream.opening_messages()
    arg = orjson.loads(login)["args"][0]
    assert (arg["apiKey"], arg["passphrase"]) == ("k", "p") and arg["sign"] and arg["timestamp"].isdigit()
    logged_in = stream.parse('{"event":"login","code":"0","msg":"","connId":"a1"}')
    assert orjson.loads(logged_in.replies[0]) == {"op": "subscribe", "args": [{"channel": "orders", "instType": "SPOT"}]}
    assert not logged_in.subscribed
    assert stream.parse('{"event":"subscribe","arg":{"channel":"orders","instType":"SPOT"},"connId":"a1"}').subscribed
    push = {"arg": {"channel": "orders", "instType": "SPOT", "uid": "1"}, "data": [OKX_FILL]}
    (order, trade) = stream.parse(orjson.dumps(push).decode()).reports
    assert (order.status, order.filled, order.exchange_order_id) == (OrderStatus.FILLED, "0.0051", "1000000")
    assert (trade.fill_id, trade.price, trade.size, trade.fee, trade.fee_asset, trade.liquidity) == (
        "273269504", "2998.4", "0.0051", "0.0000051", "ETH", Liquidity.MAKER,
    )  # fmt: skip
    placed = push | {"data": [OKX_FILL | {"state": "live", "accFillSz": "0", "fillSz": "0", "tradeId": ""}]}
    assert [type(r) for r in stream.parse(orjson.dumps(placed).decode()).reports] == [OrderReport]
    assert stream.parse("pong").reports == []
    with pytest.raises(UserStreamError, match="60007"):
        stream.parse('{"event":"error","code":"60007","msg":"Invalid sign"}')


def test_kraken_executions_exact_from_json_numbers() -> None:
    async def token(method: str, params: dict) -> dict:
        return {"error": [], "result": {"token": "T"}}

    stream = KrakenUserStream(UserStreamSettings(ws_url="ws://sim", signed_call=token))
    assert stream.parse('{"method":"subscribe","result":{"channel":"executions"},"success":true}').subscribed
    (order, trade) = stream.parse(KRAKEN_TRADE).reports
    assert (order.status, order.filled, order.client_order_id) == (OrderStatus.FILLED, "0.0054", "c1")
    assert order.exchange_ts_ns == 1700000001630 * 10**6
    assert (trade.fill_id, trade.price, trade.size, trade.fee, trade.liquidity) == (
        "TAAAAA-AAUUS-2LFKUA", "2779.1", "0.0054", "0.00000001", Liquidity.TAKER,
    )  # fmt: skip
    assert stream.parse('{"channel":"heartbeat"}').reports == []
    with pytest.raises(UserStreamError, match="Token"):
        stream.parse('{"method":"subscribe","error":"Token(s) not found","success":false}')
    with pytest.raises(UserStreamError, match="signed REST call"):
        KrakenUserStream(UserStreamSettings())


def request(size: int = 23) -> OrderRequest:
    return OrderRequest(
        client_order_id="c1", account="sim", exchange="binance", symbol="DOT/USDT", side=Side.BUY,
        order_type=OrderType.LIMIT, time_in_force=TimeInForce.GTC, price=64974, size=size, price_scale=4, size_scale=1,
        strategy="s", intent_id="i", created_ts_ns=0, market_receive_ts_ns=0, hops=[],
    )  # fmt: skip


def test_reports_become_the_updates_and_fills_of_the_rest_road_at_the_orders_scales() -> None:
    stream = BinanceUserStream(UserStreamSettings())
    order, trade = stream.parse(BINANCE_TRADE).reports
    assert isinstance(order, OrderReport) and isinstance(trade, TradeReport)
    update = order_update_of(order, request(), receive_ts_ns=5)
    assert (update.status, update.filled_size, update.exchange_order_id, update.receive_ts_ns) == (
        OrderStatus.PARTIALLY_FILLED, 11, "1000000", 5,
    )  # fmt: skip
    fill = fill_of(trade, request(), "sim", "binance", receive_ts_ns=5)
    assert (fill.price, fill.size, fill.fee, fill.fee_scale, fill.symbol, fill.account) == (
        64974,
        11,
        110000,
        8,
        "DOT/USDT",
        "sim",
    )
    # a cancel that lost the race to the last fill is the fill
    raced = OrderReport(client_order_id="c1", exchange_order_id="1", status=OrderStatus.CANCELED, filled="2.3")
    assert order_update_of(raced, request(), 0).status is OrderStatus.FILLED
    with pytest.raises(ReportError, match="scale 1"):
        order_update_of(
            OrderReport(client_order_id="c1", exchange_order_id="1", status=OrderStatus.NEW, filled="0.05"), request(), 0
        )
