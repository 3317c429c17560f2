"""Binance spot market data payloads, rendered straight to bytes with the exact field order of the real frames.

Prices and quantities are scale-8 mantissas rendered with eight decimals, as
Binance spot always sends them (``"61837.63000000"``), within the frame's own
format (one ``%`` per frame: these are rendered tens of thousands of times a
second). Field order and types match the captures in ``data/exchanges/binance/``
(the tests compare them key by key).
"""

from __future__ import annotations

from platform_streams.simulator.market.candles import (
    CLOSE,
    FIRST_ID,
    HIGH,
    LAST_ID,
    LOW,
    OPEN,
    OPEN_TIME,
    QUOTE,
    TAKER_BUY,
    TAKER_BUY_QUOTE,
    TRADES,
    VOLUME,
    Candle,
)
from platform_streams.simulator.market.candles import MINUTE_MS as _MINUTE_MS
from platform_streams.simulator.market.universe import SCALE_FACTOR

_TRUE, _FALSE = b"true", b"false"


def decimal8(mantissa: int) -> bytes:
    """A non-negative scale-8 mantissa as Binance's eight-decimal text."""
    return b"%d.%08d" % divmod(mantissa, SCALE_FACTOR)


def trade(symbol: bytes, event_ms: int, trade_id: int, price: int, quantity: int, trade_ms: int, buyer_is_maker: bool) -> bytes:
    return b'{"e":"trade","E":%d,"s":"%b","t":%d,"p":"%d.%08d","q":"%d.%08d","T":%d,"m":%b,"M":true}' % (
        event_ms,
        symbol,
        trade_id,
        price // SCALE_FACTOR,
        price % SCALE_FACTOR,
        quantity // SCALE_FACTOR,
        quantity % SCALE_FACTOR,
        trade_ms,
        _TRUE if buyer_is_maker else _FALSE,
    )


def aggregate_trade(
    symbol: bytes,
    event_ms: int,
    aggregate_id: int,
    price: int,
    quantity: int,
    first_id: int,
    last_id: int,
    trade_ms: int,
    buyer_is_maker: bool,
) -> bytes:
    return b'{"e":"aggTrade","E":%d,"s":"%b","a":%d,"p":"%d.%08d","q":"%d.%08d","f":%d,"l":%d,"T":%d,"m":%b,"M":true}' % (
        event_ms,
        symbol,
        aggregate_id,
        price // SCALE_FACTOR,
        price % SCALE_FACTOR,
        quantity // SCALE_FACTOR,
        quantity % SCALE_FACTOR,
        first_id,
        last_id,
        trade_ms,
        _TRUE if buyer_is_maker else _FALSE,
    )


def book_ticker(update_id: int, symbol: bytes, bid: int, bid_quantity: int, ask: int, ask_quantity: int) -> bytes:
    return b'{"u":%d,"s":"%b","b":"%d.%08d","B":"%d.%08d","a":"%d.%08d","A":"%d.%08d"}' % (
        update_id,
        symbol,
        bid // SCALE_FACTOR,
        bid % SCALE_FACTOR,
        bid_quantity // SCALE_FACTOR,
        bid_quantity % SCALE_FACTOR,
        ask // SCALE_FACTOR,
        ask % SCALE_FACTOR,
        ask_quantity // SCALE_FACTOR,
        ask_quantity % SCALE_FACTOR,
    )


def levels(prices: list[int], quantities: list[int]) -> bytes:
    """``[["price","qty"],...]`` from parallel scale-8 price and quantity lists."""
    scale = SCALE_FACTOR
    return (
        b"["
        + b",".join(
            [
                b'["%d.%08d","%d.%08d"]' % (price // scale, price % scale, quantity // scale, quantity % scale)
                for price, quantity in zip(prices, quantities, strict=True)
            ]
        )
        + b"]"
    )


def depth_update(event_ms: int, symbol: bytes, first_update_id: int, final_update_id: int, bids: bytes, asks: bytes) -> bytes:
    return b'{"e":"depthUpdate","E":%d,"s":"%b","U":%d,"u":%d,"b":%b,"a":%b}' % (
        event_ms,
        symbol,
        first_update_id,
        final_update_id,
        bids,
        asks,
    )


def partial_depth(last_update_id: int, bids: bytes, asks: bytes) -> bytes:
    return b'{"lastUpdateId":%d,"bids":%b,"asks":%b}' % (last_update_id, bids, asks)


def kline(event_ms: int, symbol: bytes, candle: Candle, tick: int, lot: int, closed: bool) -> bytes:
    """A ``kline_1m`` event; ``candle`` is in ticks and lots, quote volumes in ticks×lots."""
    quote_unit = tick * lot
    return (
        b'{"e":"kline","E":%d,"s":"%b","k":{"t":%d,"T":%d,"s":"%b","i":"1m","f":%d,"L":%d,"o":"%b","c":"%b","h":"%b","l":"%b",'
        b'"v":"%b","n":%d,"x":%b,"q":"%b","V":"%b","Q":"%b","B":"0"}}'
        % (
            event_ms,
            symbol,
            candle[OPEN_TIME],
            candle[OPEN_TIME] + _MINUTE_MS - 1,
            symbol,
            candle[FIRST_ID],
            candle[LAST_ID],
            decimal8(candle[OPEN] * tick),
            decimal8(candle[CLOSE] * tick),
            decimal8(candle[HIGH] * tick),
            decimal8(candle[LOW] * tick),
            decimal8(candle[VOLUME] * lot),
            candle[TRADES],
            _TRUE if closed else _FALSE,
            decimal8(candle[QUOTE] * quote_unit // SCALE_FACTOR),
            decimal8(candle[TAKER_BUY] * lot),
            decimal8(candle[TAKER_BUY_QUOTE] * quote_unit // SCALE_FACTOR),
        )
    )


def combined(stream_name: bytes, data: bytes) -> bytes:
    """The ``/stream`` wrapper: ``{"stream":"<name>","data":<payload>}``."""
    return b'{"stream":"%b","data":%b}' % (stream_name, data)
