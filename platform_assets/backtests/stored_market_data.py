"""Stored market data as the canonical events a strategy host reads live: trades (``trades``),
tops of book (``book_top``) and closed one-minute candles (the stream's ``candles``, or the
exchanges' own ``exchange_candles`` the market-data assets backfill) of some instruments over a
time range, as mantissas at each instrument's scales (a stored value with more decimals than its
instrument's scale is refused, never rounded), in the order they were received.

The range is read one UTC day at a time, every instrument in one query per table, the numbers
scaled to integers by PostgreSQL: a month of a hundred instruments' candles streams through a
replay in memory of a day.
"""

from __future__ import annotations

import heapq
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import asyncpg

from platform_assets.market_data.utc_days import day_bounds
from platform_streams.processing.candle_definition import NS_PER_SECOND
from platform_streams.schemas import BestBidOffer, Candle, Instrument, Side, Trade
from platform_streams.sinks.tables import timestamp

CANDLE_INTERVAL_S = 60  # what the sinks store
MarketEvent = Trade | BestBidOffer | Candle
CANDLE_SOURCES = {"stream": "candles", "exchange": "exchange_candles"}
"""Where a backtest's candles come from: the platform's, folded from its trades by the sinks, or
the exchanges' klines fetched by the market-data assets (months of history, backfilled)."""

# The instruments as a relation: key order (``ord``), scales and the factors that make mantissas.
_INSTRUMENTS = """(
    SELECT exchange, symbol, ps, ss, ord, 10::numeric ^ ps AS pf, 10::numeric ^ ss AS sf
    FROM unnest($1::text[], $2::text[], $3::int[], $4::int[]) WITH ORDINALITY AS u(exchange, symbol, ps, ss, ord)
) r"""

_CANDLES = """
SELECT r.ord, extract(epoch FROM c.open_time)::bigint,
       (c.open * r.pf)::bigint, (c.high * r.pf)::bigint, (c.low * r.pf)::bigint, (c.close * r.pf)::bigint,
       (c.volume * r.sf)::bigint, {trade_count},
       greatest(min_scale(c.open), min_scale(c.high), min_scale(c.low), min_scale(c.close)) > r.ps
           OR min_scale(c.volume) > r.ss
FROM {instruments} JOIN {table} c ON c.exchange = r.exchange AND c.symbol = r.symbol
WHERE c.interval_s = $5 AND {closed} c.open_time >= $6 AND c.open_time < $7 AND c.open_time + make_interval(secs => $5) <= $8
ORDER BY c.open_time, r.ord
"""

# Trades and tops of book are selected by when they were received (the order a live deployment saw
# them in, and the clock a paper trial's window is in); the exchange-time bounds, an hour wider,
# only let PostgreSQL skip the daily partitions that cannot hold them.
_RECEIVED_IN = (
    "t.ts >= $5::timestamptz - interval '1 hour' AND t.ts < $6::timestamptz + interval '1 hour'"
    " AND t.receive_ts_ns >= $7 AND t.receive_ts_ns < $8"
)
_TRADES = f"""
SELECT r.ord, t.exchange_ts_ns, t.receive_ts_ns, t.trade_id, t.side, (t.price * r.pf)::bigint, (t.size * r.sf)::bigint,
       min_scale(t.price) > r.ps OR min_scale(t.size) > r.ss
FROM {_INSTRUMENTS} JOIN trades t ON t.exchange = r.exchange AND t.symbol = r.symbol
WHERE {_RECEIVED_IN}
ORDER BY t.receive_ts_ns, r.ord, t.exchange_ts_ns, t.trade_id
"""
_QUOTES = f"""
SELECT r.ord, t.exchange_ts_ns, t.receive_ts_ns, t.sequence,
       (t.bid_price * r.pf)::bigint, (t.bid_size * r.sf)::bigint, (t.ask_price * r.pf)::bigint, (t.ask_size * r.sf)::bigint,
       greatest(min_scale(t.bid_price), min_scale(t.ask_price)) > r.ps
           OR greatest(min_scale(t.bid_size), min_scale(t.ask_size)) > r.ss
FROM {_INSTRUMENTS} JOIN book_top t ON t.exchange = r.exchange AND t.symbol = r.symbol
WHERE {_RECEIVED_IN}
ORDER BY t.receive_ts_ns, r.ord, t.sequence
"""


class StoredValueError(ValueError):
    """A stored price or size does not fit its instrument's scale (the reference data changed)."""


def _ns(moment: datetime) -> int:
    return int(moment.timestamp()) * NS_PER_SECOND + moment.microsecond * 1_000


def candle_table(source: str) -> str:
    """The table a ``candle_source`` names; a clear error for one that names none."""
    table = CANDLE_SOURCES.get(source)
    if table is None:
        raise ValueError(f"candle_source {source!r} is none of {', '.join(CANDLE_SOURCES)}")
    return table


def _candles_sql(source: str) -> str:
    table = candle_table(source)
    stream = table == "candles"  # the exchanges' klines are closed when fetched and count no trades
    return _CANDLES.format(
        instruments=_INSTRUMENTS,
        table=table,
        trade_count="c.trade_count" if stream else "0",
        closed="c.closed AND" if stream else "",
    )


def days_of(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """[start, end) cut at UTC midnights."""
    chunks, first = [], start
    while first < end:
        chunks.append((first, min(day_bounds(first.astimezone(UTC).date())[1], end)))
        first = chunks[-1][1]
    return chunks


async def stream_events(
    connection: asyncpg.Connection,
    reference: Mapping[str, Instrument],
    start: datetime,
    end: datetime,
    candle_source: str = "stream",
) -> AsyncIterator[list[MarketEvent]]:
    """Every trade, top of book and closed candle of ``reference``'s instruments in [start, end),
    one UTC day per list, in receive order: a candle is received at its close (as the stream
    publishes it); at one instant candles come first, then tops of book, then trades, each in
    instrument order."""
    instruments = [reference[key] for key in sorted(reference)]
    keys = [instrument.key for instrument in instruments]
    arguments = (
        [i.exchange for i in instruments], [i.symbol for i in instruments],
        [i.price_scale for i in instruments], [i.size_scale for i in instruments],
    )  # fmt: skip
    candles_sql = _candles_sql(candle_source)
    await connection.execute("SET work_mem = '64MB'")  # a day's rows sorted in memory, not in temporary files
    for first, last in days_of(start, end):
        candle_rows = await connection.fetch(candles_sql, *arguments, CANDLE_INTERVAL_S, first, last, end)
        window = (*arguments, first, last, _ns(first), _ns(last))
        quote_rows = await connection.fetch(_QUOTES, *window)
        trade_rows = await connection.fetch(_TRADES, *window)
        candles = _candles(candle_rows, instruments, keys)
        quotes = _rows_as(_quote, "top of book", quote_rows, instruments, keys)
        trades = _rows_as(_trade, "trade", trade_rows, instruments, keys)
        if not (quotes or trades):
            yield candles
            continue
        streams = (
            ((c.receive_ts_ns, 0, c) for c in candles),
            ((q.receive_ts_ns, 1, q) for q in quotes),
            ((t.receive_ts_ns, 2, t) for t in trades),
        )
        yield [event for _, _, event in heapq.merge(*streams, key=lambda item: (item[0], item[1]))]


def _refuse(row: Any, keys: list[str], what: str) -> None:
    raise StoredValueError(
        f"{keys[row[0] - 1]}: a stored {what} has more decimals than the instrument's scales: {tuple(row)[1:-1]}"
    )


def _candles(rows: list[asyncpg.Record], instruments: list[Instrument], keys: list[str]) -> list[Candle]:
    found = []
    interval_ns = CANDLE_INTERVAL_S * NS_PER_SECOND
    for ord_, open_s, open_, high, low, close, volume, trade_count, inexact in rows:
        if inexact:
            _refuse((ord_, open_s, open_, high, low, close, volume, trade_count, inexact), keys, "candle")
        instrument = instruments[ord_ - 1]
        open_ns = open_s * NS_PER_SECOND
        close_ns = open_ns + interval_ns
        found.append(
            Candle(
                instrument.exchange,
                instrument.symbol,
                close_ns,
                close_ns,
                0,
                CANDLE_INTERVAL_S,
                open_ns,
                open_,
                high,
                low,
                close,
                volume,
                trade_count,
                True,
                instrument.price_scale,
                instrument.size_scale,
            )  # fmt: skip
        )
    return found


def _quote(instrument: Instrument, row: asyncpg.Record) -> BestBidOffer:
    _, exchange_ns, receive_ns, sequence, bid, bid_size, ask, ask_size, _ = row
    return BestBidOffer(instrument.exchange, instrument.symbol, exchange_ns, receive_ns, sequence, bid, bid_size, ask,
                        ask_size, instrument.price_scale, instrument.size_scale)  # fmt: skip


def _trade(instrument: Instrument, row: asyncpg.Record) -> Trade:
    _, exchange_ns, receive_ns, trade_id, side, price, size, _ = row
    return Trade(instrument.exchange, instrument.symbol, exchange_ns, receive_ns, 0, trade_id, Side(side), price, size,
                 instrument.price_scale, instrument.size_scale)  # fmt: skip


def _rows_as(
    build: Callable[[Instrument, asyncpg.Record], MarketEvent], what: str, rows: list[asyncpg.Record],
    instruments: list[Instrument], keys: list[str],
) -> list:  # fmt: skip
    """Rows (instrument ordinal first, the inexact flag last) as events of their instruments."""
    found = []
    for row in rows:
        if row[-1]:
            _refuse(row, keys, what)
        found.append(build(instruments[row[0] - 1], row))
    return found


def range_of(start: str, end: str) -> tuple[datetime, datetime]:
    """[start, end) from ISO texts (a date is its midnight UTC); start must come first."""
    first, last = (datetime.fromisoformat(text) for text in (start, end))
    first, last = (t if t.tzinfo else t.replace(tzinfo=timestamp(0).tzinfo) for t in (first, last))
    if first >= last:
        raise ValueError(f"the backtest's start {start} is not before its end {end}")
    return first, last
