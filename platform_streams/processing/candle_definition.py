"""The one definition of a candle in the platform, shared by the stream's folding and the sink's SQL.

A candle of interval ``I`` seconds for an instrument is the aggregate of the set of distinct
trades (by trade id) whose exchange time falls in ``[open, open + I)``, ``open`` a multiple of
``I`` since the epoch: open/close are the price of the first/last trade by the order key
(exchange_ts_ns, length(trade_id), trade_id), high/low the extremes, volume the sum of sizes,
trade_count the number of trades. The aggregate does not depend on arrival order, so replays,
duplicates and reordering leave it unchanged.
"""

from __future__ import annotations

from platform_streams.schemas import Trade

NS_PER_SECOND = 1_000_000_000

TRADE_ORDER_SQL = "exchange_ts_ns, length(trade_id), trade_id"
"""The order key as the sink's SQL spells it (``platform_streams.sinks.candle_rollup``)."""

OrderKey = tuple[int, int, str]


def order_key(trade: Trade) -> OrderKey:
    """Where a trade stands among its candle's trades: by exchange time, then by id (shorter first,
    so numeric ids order numerically)."""
    return (trade.exchange_ts_ns, len(trade.trade_id), trade.trade_id)


def interval_open_ns(exchange_ts_ns: int, interval_s: int) -> int:
    """The start of the interval ``exchange_ts_ns`` falls in (floor, also before 1970)."""
    interval_ns = interval_s * NS_PER_SECOND
    return exchange_ts_ns - exchange_ts_ns % interval_ns
