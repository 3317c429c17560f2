"""Stored market data as the canonical events a strategy host reads live: trades (``trades``),
tops of book (``book_top``) and closed one-minute candles (``candles``) of some instruments over a
time range, as mantissas at each instrument's scales (a stored value with more decimals than its
instrument's scale is refused, never rounded), in the order they were received."""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg

from platform_streams.processing.candle_definition import NS_PER_SECOND
from platform_streams.schemas import BestBidOffer, Candle, Instrument, Side, Trade
from platform_streams.schemas.fixed_point import FixedPointError, parse_at_scale
from platform_streams.sinks.tables import timestamp

CANDLE_INTERVAL_S = 60  # what the sinks store
MarketEvent = Trade | BestBidOffer | Candle


# Trades and tops of book are selected by when they were received (the order a live deployment saw
# them in, and the clock a paper trial's window is in); the exchange-time bounds, an hour wider,
# only let PostgreSQL skip the daily partitions that cannot hold them.
_RECEIVED_IN = "ts >= $3 - interval '1 hour' AND ts < $4 + interval '1 hour' AND receive_ts_ns >= $5 AND receive_ts_ns < $6"


def _ns(moment: datetime) -> int:
    return int(moment.timestamp()) * NS_PER_SECOND + moment.microsecond * 1_000


class StoredValueError(ValueError):
    """A stored price or size does not fit its instrument's scale (the reference data changed)."""


def _at(value: Decimal, scale: int, what: str, where: str) -> int:
    try:
        return parse_at_scale(format(value, "f"), scale)
    except FixedPointError:
        raise StoredValueError(f"{where}: stored {what} {value} has more decimals than the instrument's scale {scale}") from None


async def _fetch(connection: asyncpg.Connection, sql: str, *arguments: Any) -> list[asyncpg.Record]:
    return await connection.fetch(sql, *arguments)


async def fetch_events(
    connection: asyncpg.Connection, reference: Mapping[str, Instrument], start: datetime, end: datetime
) -> list[MarketEvent]:
    """Every trade, top of book and closed candle of ``reference``'s instruments received in
    [start, end) and every closed candle of that range, merged in receive order (a candle is
    received at its close, as the stream publishes it)."""
    streams: list[list[tuple[int, int, MarketEvent]]] = []
    for key, instrument in sorted(reference.items()):
        exchange, symbol, ps, ss = instrument.exchange, instrument.symbol, instrument.price_scale, instrument.size_scale
        trades = [
            Trade(
                exchange,
                symbol,
                r["exchange_ts_ns"],
                r["receive_ts_ns"],
                0,
                r["trade_id"],
                Side(r["side"]),
                _at(r["price"], ps, "price", key),
                _at(r["size"], ss, "size", key),
                ps,
                ss,
            )  # fmt: skip
            for r in await _fetch(
                connection,
                "SELECT trade_id, exchange_ts_ns, receive_ts_ns, side, price, size FROM trades"
                " WHERE exchange = $1 AND symbol = $2 AND ts >= $3 AND ts < $4 ORDER BY receive_ts_ns, exchange_ts_ns, trade_id",
                exchange,
                symbol,
                start,
                end,
            )  # fmt: skip
        ]
        quotes = [
            BestBidOffer(
                exchange,
                symbol,
                r["exchange_ts_ns"],
                r["receive_ts_ns"],
                r["sequence"],
                _at(r["bid_price"], ps, "bid", key),
                _at(r["bid_size"], ss, "bid size", key),
                _at(r["ask_price"], ps, "ask", key),
                _at(r["ask_size"], ss, "ask size", key),
                ps,
                ss,
            )  # fmt: skip
            for r in await _fetch(
                connection,
                "SELECT sequence, exchange_ts_ns, receive_ts_ns, bid_price, bid_size, ask_price, ask_size FROM book_top"
                " WHERE exchange = $1 AND symbol = $2 AND ts >= $3 AND ts < $4 ORDER BY receive_ts_ns, sequence",
                exchange,
                symbol,
                start,
                end,
            )  # fmt: skip
        ]
        candles = []
        for r in await _fetch(
            connection,
            "SELECT open_time, open, high, low, close, volume, trade_count FROM candles WHERE exchange = $1 AND symbol = $2"
            " AND interval_s = $3 AND closed AND open_time >= $4 AND open_time + make_interval(secs => $3) <= $5"
            " ORDER BY open_time",
            exchange, symbol, CANDLE_INTERVAL_S, start, end,
        ):  # fmt: skip
            open_ns = int(r["open_time"].timestamp()) * NS_PER_SECOND
            close_ns = open_ns + CANDLE_INTERVAL_S * NS_PER_SECOND
            candles.append(
                Candle(
                    exchange,
                    symbol,
                    close_ns,
                    close_ns,
                    0,
                    CANDLE_INTERVAL_S,
                    open_ns,
                    _at(r["open"], ps, "open", key),
                    _at(r["high"], ps, "high", key),
                    _at(r["low"], ps, "low", key),
                    _at(r["close"], ps, "close", key),
                    _at(r["volume"], ss, "volume", key),
                    r["trade_count"],
                    True,
                    ps,
                    ss,
                )  # fmt: skip
            )
        # at one instant: the candle that closed first, then the quote, then the trade
        streams += [[(c.receive_ts_ns, 0, c) for c in candles], [(q.receive_ts_ns, 1, q) for q in quotes]]
        streams.append([(t.receive_ts_ns, 2, t) for t in trades])
    return [event for _, _, event in heapq.merge(*streams, key=lambda item: (item[0], item[1]))]


def range_of(start: str, end: str) -> tuple[datetime, datetime]:
    """[start, end) from ISO texts (a date is its midnight UTC); start must come first."""
    first, last = (datetime.fromisoformat(text) for text in (start, end))
    first, last = (t if t.tzinfo else t.replace(tzinfo=timestamp(0).tzinfo) for t in (first, last))
    if first >= last:
        raise ValueError(f"the backtest's start {start} is not before its end {end}")
    return first, last
