"""The stored one-minute candles (``candles``, folded by the sinks from the stored trades) of one
exchange and UTC day as a polars frame of mantissas, with each instrument's warm-up candles before
the day, and the recomputed values written back idempotently (``indicator_values``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import asyncpg
import polars as pl

from platform_assets.market_data.utc_days import day_bounds
from platform_streams.processing.batch import CANDLE_SCHEMA
from platform_streams.schemas.fixed_point import to_decimal

LOOKBACK_LIMIT = timedelta(days=7)
"""Warm-up candles are looked for this far before the day at most (partition pruning)."""
_NS = 1_000_000_000

# A stored price keeps its trades' decimals (numeric keeps its scale), so a candle's price scale is
# that of its prices and a mantissa is the price times 10^scale: the stream's own integers.
_COLUMNS = """
    exchange, symbol, interval_s, (extract(epoch FROM open_time) * 1e9)::bigint AS open_ts_ns,
    (open * 10::numeric ^ ps)::bigint, (high * 10::numeric ^ ps)::bigint, (low * 10::numeric ^ ps)::bigint,
    (close * 10::numeric ^ ps)::bigint, (volume * 10::numeric ^ scale(volume))::bigint, trade_count,
    ps AS price_scale, scale(volume) AS size_scale
"""
_READ = f"""
WITH chosen AS (
    SELECT *, greatest(scale(open), scale(high), scale(low), scale(close)) AS ps FROM candles
    WHERE exchange = $1 AND interval_s = $2 AND closed AND open_time >= $4::timestamptz - $7::interval AND open_time < $5
      AND ($6::text[] IS NULL OR symbol = ANY($6::text[]))
), day_symbols AS (
    SELECT DISTINCT symbol FROM chosen WHERE open_time >= $4
), warmup AS (
    SELECT * FROM (
        SELECT *, row_number() OVER (PARTITION BY symbol ORDER BY open_time DESC) AS back FROM chosen
        WHERE open_time < $4 AND symbol IN (SELECT symbol FROM day_symbols)
    ) ranked WHERE back <= $3
)
SELECT {_COLUMNS} FROM chosen WHERE open_time >= $4
UNION ALL
SELECT {_COLUMNS} FROM warmup
"""


async def read_day_candles(
    database_url: str, exchange: str, day: date, interval_s: int, warmup: int, symbols: Sequence[str] | None = None
) -> pl.DataFrame:
    """Closed candles of ``exchange`` opening on ``day`` and, per instrument, up to ``warmup`` before
    it: a frame with ``CANDLE_SCHEMA``'s columns, for ``compute_indicators``."""
    start, end = day_bounds(day)
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch(
            _READ, exchange, interval_s, warmup, start, end, list(symbols) if symbols else None, LOOKBACK_LIMIT
        )
    finally:
        await connection.close()
    return pl.DataFrame([tuple(row) for row in rows], schema=CANDLE_SCHEMA, orient="row")


def day_values(values: pl.DataFrame, day: date) -> pl.DataFrame:
    """The values of candles that opened on ``day`` (stamped with the candle's end: (start, end])."""
    start, end = (int(bound.timestamp()) * _NS for bound in day_bounds(day))
    return values.filter((pl.col("exchange_ts_ns") > start) & (pl.col("exchange_ts_ns") <= end))


async def replace_day_values(
    database_url: str,
    exchange: str,
    day: date,
    interval_s: int,
    names: Sequence[str],
    parameters: str,
    values: pl.DataFrame,
    code_version: str,
    symbols: Sequence[str] | None = None,
) -> int:
    """Replace one indicator's values of ``exchange`` on ``day`` (of ``symbols``, or all) by
    ``values`` (``INDICATOR_SCHEMA`` rows) in one transaction: running it twice stores the same."""
    start, end = day_bounds(day)
    records = [
        (e, s, name, parameters, interval, datetime.fromtimestamp(ts // _NS, UTC), to_decimal(value, scale), code_version)
        for e, s, name, _, interval, ts, value, scale in values.select(
            "exchange", "symbol", "indicator", "parameters", "interval_s", "exchange_ts_ns", "value", "value_scale"
        ).iter_rows()
    ]
    connection = await asyncpg.connect(database_url)
    try:
        async with connection.transaction():
            await connection.execute(
                "SELECT ensure_daily_partitions('indicator_values'::regclass, $1, $2)", day, day + timedelta(days=1)
            )
            await connection.execute(
                "DELETE FROM indicator_values WHERE exchange = $1 AND indicator = ANY($2::text[]) AND parameters = $3"
                " AND interval_s = $4 AND ts > $5 AND ts <= $6 AND ($7::text[] IS NULL OR symbol = ANY($7::text[]))",
                exchange, list(names), parameters, interval_s, start, end, list(symbols) if symbols else None,
            )  # fmt: skip
            await connection.copy_records_to_table(
                "indicator_values",
                records=records,
                columns=["exchange", "symbol", "indicator", "parameters", "interval_s", "ts", "value", "code_version"],
            )
    finally:
        await connection.close()
    return len(records)
