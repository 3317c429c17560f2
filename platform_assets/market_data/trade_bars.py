"""``daily_trade_bars``: one bar per exchange, symbol and UTC day over the trades the stream sinks
persisted (``trades``), computed in PostgreSQL where the trades are (a day of 3,000 instruments is
millions of rows) and written idempotently; its metadata lists the volume per instrument."""

# No `from __future__ import annotations` here: Dagster resolves resource annotations when defined.
import asyncio
from datetime import date

import asyncpg
import dagster as dg

from platform_assets.market_data.utc_days import day_bounds
from platform_assets.resources.platform_servers import PostgresResource
from platform_assets.streams.topology import table_key

TRADE_DAYS = dg.DailyPartitionsDefinition(start_date="2026-11-01")
HAS_TRADES = "has_trades"
TOP_INSTRUMENTS = 15

_RECOMPUTE = """
WITH day_trades AS (
    SELECT exchange, symbol, ts, trade_id, price, size, side FROM trades WHERE ts >= $1 AND ts < $2
)
INSERT INTO daily_trade_bars
    (exchange, symbol, day, open, high, low, close, volume, notional, trades, buy_volume, first_trade, last_trade)
SELECT exchange, symbol, $3::date,
       (array_agg(price ORDER BY ts, trade_id))[1],
       max(price), min(price),
       (array_agg(price ORDER BY ts DESC, trade_id DESC))[1],
       sum(size), sum(price * size), count(*),
       coalesce(sum(size) FILTER (WHERE side = 'buy'), 0),
       min(ts), max(ts)
FROM day_trades GROUP BY exchange, symbol
"""


async def recompute_day(database_url: str, day: date) -> list[asyncpg.Record]:
    """Replace ``day``'s bars by those of the stored trades; returns them, largest notional first."""
    start, end = day_bounds(day)
    connection = await asyncpg.connect(database_url)
    try:
        async with connection.transaction():
            await connection.execute("DELETE FROM daily_trade_bars WHERE day = $1", day)
            await connection.execute(_RECOMPUTE, start, end, day)
        return await connection.fetch(
            "SELECT exchange, symbol, volume, notional, trades FROM daily_trade_bars WHERE day = $1 ORDER BY notional DESC", day
        )
    finally:
        await connection.close()


@dg.asset(
    partitions_def=TRADE_DAYS,
    deps=[table_key("trades")],
    group_name="market_data",
    kinds={"postgres"},
    code_version="1",
    check_specs=[dg.AssetCheckSpec(HAS_TRADES, asset="daily_trade_bars", description="The day has stored trades.")],
    description="One bar per exchange, symbol and UTC day (open, high, low, close, volume, notional, trades, aggressor "
    "buy volume) over the trades the stream sinks stored; PostgreSQL table `daily_trade_bars`.",
)
def daily_trade_bars(context: dg.AssetExecutionContext, postgres: PostgresResource) -> dg.MaterializeResult:
    day = date.fromisoformat(context.partition_key)
    bars = asyncio.run(recompute_day(postgres.url, day))
    by_exchange: dict[str, int] = {}
    for bar in bars:
        by_exchange[bar["exchange"]] = by_exchange.get(bar["exchange"], 0) + bar["trades"]
    rows = ["| exchange | symbol | volume | notional | trades |", "|---|---|---|---|---|"]
    rows += [
        f"| {b['exchange']} | {b['symbol']} | {b['volume']} | {b['notional']:.2f} | {b['trades']} |"
        for b in bars[:TOP_INSTRUMENTS]
    ]
    return dg.MaterializeResult(
        metadata={
            "instruments": len(bars),
            "trades": sum(by_exchange.values()),
            **{f"trades_{exchange}": count for exchange, count in sorted(by_exchange.items())},
            "volume_per_instrument": dg.MetadataValue.md("\n".join(rows)),
        },
        check_results=[dg.AssetCheckResult(check_name=HAS_TRADES, passed=bool(bars), metadata={"instruments": len(bars)})],
    )


trade_bars_job = dg.define_asset_job("daily_trade_bars_job", selection=[daily_trade_bars])
daily_trade_bars_schedule = dg.build_schedule_from_partitioned_job(
    trade_bars_job,
    name="daily_trade_bars_schedule",
    minute_of_hour=30,
    description="Yesterday's trade bars, once the day is over.",
)
