"""An independent oracle for candles: the previous full recomputation over stored trades."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from platform_streams.sinks.tables import timestamp

T0 = 1_764_000_000_000_000_000  # 2025-11-24T16:00:00Z, a minute boundary
MINUTE_NS = 60_000_000_000

# The previous full recomputation, as an independent oracle: open/close are the first/last
# trade by (exchange_ts_ns, length(trade_id), trade_id).
ORACLE = """
SELECT exchange, symbol, date_trunc('minute', ts, 'UTC') AS open_time,
       (array_agg(price ORDER BY exchange_ts_ns, length(trade_id), trade_id))[1] AS open,
       max(price) AS high, min(price) AS low,
       (array_agg(price ORDER BY exchange_ts_ns DESC, length(trade_id) DESC, trade_id DESC))[1] AS close,
       sum(size) AS volume, count(*) AS trade_count,
       (array_agg(exchange_ts_ns ORDER BY exchange_ts_ns, length(trade_id), trade_id))[1] AS open_ts_ns,
       (array_agg(trade_id ORDER BY exchange_ts_ns, length(trade_id), trade_id))[1] AS open_trade_id,
       (array_agg(exchange_ts_ns ORDER BY exchange_ts_ns DESC, length(trade_id) DESC, trade_id DESC))[1] AS close_ts_ns,
       (array_agg(trade_id ORDER BY exchange_ts_ns DESC, length(trade_id) DESC, trade_id DESC))[1] AS close_trade_id
FROM trades GROUP BY 1, 2, 3
"""
CANDLE_COLUMNS = (
    "exchange, symbol, open_time, open, high, low, close, volume, trade_count,"
    " open_ts_ns, open_trade_id, close_ts_ns, close_trade_id"
)


def trade(symbol: str, trade_id: str, ts_ns: int, price: str, size: str = "1") -> tuple[Any, ...]:
    """A trades row, as ``tables.trade_row`` builds it."""
    return ("test", symbol, trade_id, timestamp(ts_ns), ts_ns, ts_ns + 1_000, "buy", Decimal(price), Decimal(size))
