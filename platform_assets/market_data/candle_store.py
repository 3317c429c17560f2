"""The ``exchange_candles`` table: one day × exchange partition written idempotently (its rows
replaced in one transaction), and what a partition holds, for the checks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

import asyncpg

from platform_assets.market_data.ohlcv_fetch import OhlcvRow
from platform_assets.market_data.utc_days import day_bounds


async def replace_partition(
    database_url: str, exchange: str, day: date, interval_s: int, rows: Sequence[OhlcvRow], symbols: Sequence[str]
) -> int:
    """Replace ``symbols``' candles of ``exchange`` on ``day`` by ``rows``: running it twice stores the same."""
    start, end = day_bounds(day)
    connection = await asyncpg.connect(database_url)
    try:
        async with connection.transaction():
            await connection.execute("SELECT ensure_daily_partitions('exchange_candles'::regclass, $1, $1)", day)
            await connection.execute(
                "DELETE FROM exchange_candles WHERE exchange = $1 AND interval_s = $2 AND open_time >= $3 AND open_time < $4"
                " AND symbol = ANY($5::text[])",
                exchange, interval_s, start, end, list(symbols),
            )  # fmt: skip
            await connection.copy_records_to_table(
                "exchange_candles",
                records=[
                    (
                        r.exchange,
                        r.symbol,
                        r.interval_s,
                        datetime.fromtimestamp(r.open_time_ms / 1000, UTC),
                        Decimal(r.open),
                        Decimal(r.high),
                        Decimal(r.low),
                        Decimal(r.close),
                        Decimal(r.volume),
                    )
                    for r in rows
                ],  # fmt: skip
                columns=["exchange", "symbol", "interval_s", "open_time", "open", "high", "low", "close", "volume"],
            )
    finally:
        await connection.close()
    return len(rows)


async def partition_open_times(database_url: str, exchange: str, day: date, interval_s: int) -> dict[str, list[int]]:
    """Per symbol, the open times (ms) of the stored candles of ``exchange`` on ``day``, in order (a
    candle stored twice appears twice: the duplicate check counts them)."""
    start, end = day_bounds(day)
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch(
            "SELECT symbol, array_agg((extract(epoch FROM open_time) * 1000)::bigint ORDER BY open_time) AS times"
            " FROM exchange_candles WHERE exchange = $1 AND interval_s = $2 AND open_time >= $3 AND open_time < $4"
            " GROUP BY symbol",
            exchange, interval_s, start, end,
        )  # fmt: skip
    finally:
        await connection.close()
    return {row["symbol"]: list(row["times"]) for row in rows}
