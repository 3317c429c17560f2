"""One-minute candles fed from the trades table, recomputed for the minutes a batch touched.

Candles are an aggregate of stored trades (first/last by exchange time, then trade
id), so they are exact and idempotent: replaying trades or refreshing twice gives
the same rows. A minute is ``closed`` once it ended ``close_grace_s`` ago; open
minutes stay pending and are refreshed again after they close.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from platform_streams.sinks.postgres_writer import PostgresWriter

CandleKey = tuple[str, str, datetime]  # exchange, symbol, minute start (UTC)

_UPSERT = """
INSERT INTO candles (exchange, symbol, interval_s, open_time, open, high, low, close, volume, trade_count, closed, updated_at)
SELECT t.exchange, t.symbol, 60, k.open_time,
       (array_agg(t.price ORDER BY t.exchange_ts_ns, length(t.trade_id), t.trade_id))[1],
       max(t.price), min(t.price),
       (array_agg(t.price ORDER BY t.exchange_ts_ns DESC, length(t.trade_id) DESC, t.trade_id DESC))[1],
       sum(t.size), count(*), k.open_time + interval '1 minute' <= $4, now()
FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS k(exchange, symbol, open_time)
JOIN trades t ON t.exchange = k.exchange AND t.symbol = k.symbol
             AND t.ts >= k.open_time AND t.ts < k.open_time + interval '1 minute'
GROUP BY t.exchange, t.symbol, k.open_time
ON CONFLICT (exchange, symbol, interval_s, open_time) DO UPDATE SET
    open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close,
    volume = EXCLUDED.volume, trade_count = EXCLUDED.trade_count, closed = EXCLUDED.closed,
    updated_at = EXCLUDED.updated_at
"""


def minute_of(ts: datetime) -> datetime:
    return ts.replace(second=0, microsecond=0)


class CandleRollup:
    """Remembers which (instrument, minute) candles need recomputing and recomputes them."""

    def __init__(self, close_grace_s: float = 5.0) -> None:
        self._grace = timedelta(seconds=close_grace_s)
        self.pending: set[CandleKey] = set()

    def touch(self, keys: Iterable[CandleKey]) -> None:
        self.pending.update(keys)

    async def refresh(self, writer: PostgresWriter, now: datetime) -> int:
        """Recompute pending candles; those still open stay pending. Returns candles written."""
        if not self.pending:
            return 0
        keys = sorted(self.pending)
        closed_before = now - self._grace
        await writer.ensure_partitions("candles", {k[2].date() for k in keys})
        await writer.execute(_UPSERT, [k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys], closed_before)
        self.pending = {k for k in keys if k[2] + timedelta(minutes=1) > closed_before}
        return len(keys)
