"""One-minute candles, folded incrementally from the trades each batch inserts.

The statement that inserts a batch of trades (``ON CONFLICT DO NOTHING``) returns
the rows it actually inserted, and the same statement folds exactly those into their
candles: high and low by comparison, volume and count by addition, open and close by
comparing the ordering key (exchange_ts_ns, length(trade_id), trade_id) kept on the
row for its open and close trade. That is the definition in
``platform_streams.processing.candle_definition``, which the stream's candles
(``md.candle``) fold by too: the two agree on the same trades (tested). Candles therefore always equal an aggregate of the
stored trades: a replayed trade is not inserted, so it changes nothing, and a late
trade updates its (possibly old) minute. No trade is ever read back.

A minute is ``closed`` once it ended ``close_grace_s`` ago: rows are written closed
when they already are, and a periodic sweep closes the rest through a partial index
on open minutes, looking only at recent partitions after its first run.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from platform_streams.processing.candle_definition import TRADE_ORDER_SQL

if TYPE_CHECKING:
    from platform_streams.sinks.postgres_writer import PostgresWriter

ONE_MINUTE = timedelta(minutes=1)
_EVERYTHING = datetime(1970, 1, 1, tzinfo=UTC)
# How far before its previous cutoff a sweep looks again: covers batches that computed
# their `closed` with an earlier clock (another replica, a long transaction) and committed later.
SWEEP_OVERLAP = timedelta(hours=1)

_ORDER = TRADE_ORDER_SQL  # the platform's one candle definition, shared with the stream's candles
_OPEN_FIRST = (
    "(EXCLUDED.open_ts_ns, length(EXCLUDED.open_trade_id), EXCLUDED.open_trade_id)"
    " < (candles.open_ts_ns, length(candles.open_trade_id), candles.open_trade_id)"
)
_CLOSE_LAST = (
    "(EXCLUDED.close_ts_ns, length(EXCLUDED.close_trade_id), EXCLUDED.close_trade_id)"
    " > (candles.close_ts_ns, length(candles.close_trade_id), candles.close_trade_id)"
)

_FOLD = f"""
WITH inserted AS (
    {{insert_trades}}
    RETURNING exchange, symbol, trade_id, ts, exchange_ts_ns, price, size
), minutes AS (
    SELECT exchange, symbol, date_trunc('minute', ts, 'UTC') AS open_time,
           array_agg(price ORDER BY {_ORDER}) AS prices,
           array_agg(exchange_ts_ns ORDER BY {_ORDER}) AS ts_ns,
           array_agg(trade_id ORDER BY {_ORDER}) AS trade_ids,
           max(price) AS high, min(price) AS low, sum(size) AS volume, count(*) AS trade_count
    FROM inserted
    GROUP BY 1, 2, 3
), folded AS (
    INSERT INTO candles (exchange, symbol, interval_s, open_time, open, high, low, close, volume, trade_count,
                         open_ts_ns, open_trade_id, close_ts_ns, close_trade_id, closed, updated_at)
    SELECT exchange, symbol, 60, open_time, prices[1], high, low, prices[cardinality(prices)], volume, trade_count,
           ts_ns[1], trade_ids[1], ts_ns[cardinality(ts_ns)], trade_ids[cardinality(trade_ids)],
           open_time + interval '1 minute' <= $1, now()
    FROM minutes
    ORDER BY exchange, symbol, open_time
    ON CONFLICT (exchange, symbol, interval_s, open_time) DO UPDATE SET
        open = CASE WHEN {_OPEN_FIRST} THEN EXCLUDED.open ELSE candles.open END,
        open_ts_ns = CASE WHEN {_OPEN_FIRST} THEN EXCLUDED.open_ts_ns ELSE candles.open_ts_ns END,
        open_trade_id = CASE WHEN {_OPEN_FIRST} THEN EXCLUDED.open_trade_id ELSE candles.open_trade_id END,
        close = CASE WHEN {_CLOSE_LAST} THEN EXCLUDED.close ELSE candles.close END,
        close_ts_ns = CASE WHEN {_CLOSE_LAST} THEN EXCLUDED.close_ts_ns ELSE candles.close_ts_ns END,
        close_trade_id = CASE WHEN {_CLOSE_LAST} THEN EXCLUDED.close_trade_id ELSE candles.close_trade_id END,
        high = greatest(candles.high, EXCLUDED.high),
        low = least(candles.low, EXCLUDED.low),
        volume = candles.volume + EXCLUDED.volume,
        trade_count = candles.trade_count + EXCLUDED.trade_count,
        closed = candles.closed OR EXCLUDED.closed,
        updated_at = EXCLUDED.updated_at
)
SELECT count(*) FROM inserted
"""

_CLOSE_DUE = """
UPDATE candles SET closed = true, updated_at = now()
WHERE NOT closed AND interval_s = 60 AND open_time >= $1 AND open_time <= $2
"""


def fold_into_candles(insert_trades: str) -> str:
    """``insert_trades`` (an ``INSERT INTO trades … ON CONFLICT DO NOTHING`` without RETURNING)
    extended to fold the rows it inserts into their candles. Takes one parameter, the
    ``closed_before`` time; returns one row: the number of trades inserted."""
    return _FOLD.format(insert_trades=insert_trades)


class CandleRollup:
    """When a one-minute candle counts as closed, and the sweep that marks it so."""

    def __init__(self, close_grace_s: float = 5.0) -> None:
        self._grace = timedelta(seconds=close_grace_s)
        self._swept_to: datetime | None = None

    def closed_before(self, now: datetime) -> datetime:
        """Minutes that ended at or before this time are closed."""
        return now - self._grace

    def sweep_range(self, now: datetime) -> tuple[datetime, datetime]:
        """The open_time range a sweep at ``now`` closes: everything on the first sweep
        (minutes left open by a previous run), then from shortly before the last cutoff."""
        cutoff = self.closed_before(now) - ONE_MINUTE
        since = _EVERYTHING if self._swept_to is None else min(self._swept_to, cutoff) - SWEEP_OVERLAP
        return since, cutoff

    async def close_due(self, writer: PostgresWriter, now: datetime) -> int:
        """Mark closed the open candles whose minute ended ``close_grace_s`` before ``now``;
        returns how many. Reads only the candles index of open minutes, never trades."""
        since, cutoff = self.sweep_range(now)
        status = await writer.execute(_CLOSE_DUE, since, cutoff)
        self._swept_to = cutoff if self._swept_to is None else max(self._swept_to, cutoff)
        return int(status.rsplit(" ", 1)[1])
