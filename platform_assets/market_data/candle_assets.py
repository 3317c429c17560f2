"""``exchange_candles``: the exchanges' OHLCV candles, one partition per UTC day and exchange (the
instruments inside it), fetched through ccxt and stored idempotently in PostgreSQL; checked for
gaps and duplicates with each partition and for freshness on demand; a daily schedule fetches
yesterday, and any range is backfilled from the UI (Materialize → select partitions)."""

# No `from __future__ import annotations` here: Dagster resolves config and resource annotations when defined.
import asyncio
import time
from datetime import UTC, date, datetime, timedelta

import asyncpg
import dagster as dg

from platform_assets.market_data.candle_store import partition_open_times, replace_partition
from platform_assets.market_data.ohlcv_fetch import DAY_MS, INTERVAL_MS, OhlcvRow, fetch_day, missing_intervals
from platform_assets.market_data.utc_days import day_bounds
from platform_assets.resources.exchanges import ExchangesResource
from platform_assets.resources.platform_servers import PostgresResource

EXCHANGES = ["binance", "okx", "kraken"]
FIRST_DAY = "2026-11-01"
CANDLE_PARTITIONS = dg.MultiPartitionsDefinition(
    {  # today's partition exists too (end_offset 1): it holds the candles closed when it is fetched
        "date": dg.DailyPartitionsDefinition(start_date=FIRST_DAY, end_offset=1),
        "exchange": dg.StaticPartitionsDefinition(EXCHANGES),
    }
)
NO_GAPS = "no_gaps"
NO_DUPLICATES = "no_duplicates"
FRESH = "fresh"
FRESH_WITHIN = timedelta(days=2)  # the daily schedule fetches yesterday: older than this, it has not run


class CandleFetchConfig(dg.Config):
    """Which candles a partition holds: ``interval`` (1m, 5m, 15m, 1h, 1d) of ``symbols`` (unified,
    ``BTC/USDT``) or ``exchange_symbols`` (the exchange's own ids, ``BTCUSDT``: what a gap repair
    names); default every active spot market of the exchange, the first ``max_symbols`` if set.
    Only the symbols fetched are replaced in the partition."""

    interval: str = "1m"
    symbols: list[str] = []
    exchange_symbols: list[str] = []
    max_symbols: int = 0


def day_and_exchange(context: dg.AssetExecutionContext) -> tuple[date, str]:
    """The day and exchange of a ``CANDLE_PARTITIONS`` partition."""
    key = context.partition_key
    assert isinstance(key, dg.MultiPartitionKey)
    dimensions = key.keys_by_dimension
    return date.fromisoformat(dimensions["date"]), dimensions["exchange"]


async def _fetch_partition(
    context: dg.AssetExecutionContext, exchanges: ExchangesResource, exchange: str, day: date, config: CandleFetchConfig
) -> tuple[list[str], list[OhlcvRow]]:
    day_start_ms = int(day_bounds(day)[0].timestamp() * 1000)
    async with exchanges.client(exchange) as (client, grant):
        markets = await client.load_markets()
        by_id = {m["id"]: s for s, m in markets.items()}
        symbols = sorted({*config.symbols, *(by_id.get(i, i) for i in config.exchange_symbols)}) or sorted(
            s for s, m in markets.items() if m.get("spot") and m.get("active", True) is not False
        )
        if config.max_symbols:
            symbols = symbols[: config.max_symbols]
        unknown = sorted(set(symbols) - set(markets))
        if unknown:
            raise dg.Failure(f"{exchange} does not list {', '.join(unknown)}", allow_retries=False)
        rows: list[OhlcvRow] = []
        now_ms = int(time.time() * 1000)
        for done, symbol in enumerate(symbols, 1):
            rows += await fetch_day(client, exchange, symbol, day_start_ms, config.interval, now_ms, grant)
            if done % 50 == 0 or done == len(symbols):
                context.log.info(f"{exchange} {day}: {done}/{len(symbols)} symbols, {len(rows)} candles")
    return symbols, rows


def _gap_check(symbols: list[str], stored: dict[str, list[int]], interval_ms: int) -> dg.AssetCheckResult:
    gaps = {symbol: missing_intervals(times, interval_ms) for symbol, times in stored.items()}
    gaps = {symbol: found for symbol, found in gaps.items() if found}
    empty = sorted(set(symbols) - set(stored))
    missing = sum(count for found in gaps.values() for _, count in found)
    worst = sorted(gaps.items(), key=lambda item: -sum(count for _, count in item[1]))[:10]
    return dg.AssetCheckResult(
        check_name=NO_GAPS,
        passed=not gaps and not empty,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "missing_candles": missing,
            "symbols_with_gaps": len(gaps),
            "symbols_without_candles": ", ".join(empty[:20]) or "-",
            "worst": ", ".join(
                f"{symbol}: {sum(c for _, c in found)} from {datetime.fromtimestamp(found[0][0] / 1000, UTC):%H:%M}"
                for symbol, found in worst
            ) or "-",
        },
    )  # fmt: skip


@dg.asset(
    partitions_def=CANDLE_PARTITIONS,
    group_name="market_data",
    kinds={"postgres", "ccxt"},
    code_version="1",
    check_specs=[
        dg.AssetCheckSpec(
            NO_GAPS, asset="exchange_candles", description="Every symbol has every candle of the day it traded in."
        ),
        dg.AssetCheckSpec(NO_DUPLICATES, asset="exchange_candles", description="One candle per symbol and open time."),
    ],
    description="The exchanges' own OHLCV candles (REST klines through ccxt), per UTC day and exchange, in PostgreSQL "
    "(`exchange_candles`, rows of a partition replaced when it is fetched again).",
)
def exchange_candles(
    context: dg.AssetExecutionContext, config: CandleFetchConfig, exchanges: ExchangesResource, postgres: PostgresResource
) -> dg.MaterializeResult:
    if config.interval not in INTERVAL_MS:
        raise dg.Failure(f"interval {config.interval!r} is not one of {', '.join(INTERVAL_MS)}", allow_retries=False)
    day, exchange = day_and_exchange(context)
    interval_ms = INTERVAL_MS[config.interval]
    started = time.monotonic()

    async def run() -> tuple[list[str], int, dict[str, list[int]], int]:
        symbols, rows = await _fetch_partition(context, exchanges, exchange, day, config)
        written = await replace_partition(postgres.url, exchange, day, interval_ms // 1000, rows, symbols)
        stored = await partition_open_times(postgres.url, exchange, day, interval_ms // 1000)
        return symbols, written, stored, sum(len(times) - len(set(times)) for times in stored.values())

    symbols, written, stored, duplicates = asyncio.run(run())
    return dg.MaterializeResult(
        metadata={
            "candles": written,
            "symbols": len(symbols),
            "interval": config.interval,
            "expected_per_symbol": DAY_MS // interval_ms,
            "fetch_seconds": round(time.monotonic() - started, 2),
        },
        check_results=[
            _gap_check(symbols, {s: t for s, t in stored.items() if s in set(symbols)}, interval_ms),
            dg.AssetCheckResult(check_name=NO_DUPLICATES, passed=duplicates == 0, metadata={"duplicates": duplicates}),
        ],
    )


@dg.asset_check(asset=exchange_candles, name=FRESH, description="Each exchange's newest stored candle is under two days old.")
def exchange_candles_fresh(postgres: PostgresResource) -> dg.AssetCheckResult:
    async def newest() -> dict[str, datetime]:
        connection = await asyncpg.connect(postgres.url)
        try:
            rows = await connection.fetch("SELECT exchange, max(open_time) AS newest FROM exchange_candles GROUP BY exchange")
        finally:
            await connection.close()
        return {row["exchange"]: row["newest"] for row in rows}

    found = asyncio.run(newest())
    now = datetime.now(UTC)
    stale = [e for e in EXCHANGES if e not in found or now - found[e] > FRESH_WITHIN]
    return dg.AssetCheckResult(
        passed=not stale,
        metadata={
            **{f"{e}_newest": found[e].isoformat() if e in found else "none" for e in EXCHANGES},
            "stale": ", ".join(stale) or "-",
        },
    )


candles_job = dg.define_asset_job("exchange_candles_job", selection=[exchange_candles])


@dg.schedule(
    cron_schedule="15 0 * * *", job=candles_job, execution_timezone="UTC", description="Yesterday's candles of every exchange."
)
def daily_exchange_candles(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest]:
    return yesterday_runs(context)


def yesterday_runs(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest]:
    """A run of yesterday's partition of every exchange (by ``CANDLE_PARTITIONS``), once each."""
    yesterday = (context.scheduled_execution_time.astimezone(UTC) - timedelta(days=1)).date().isoformat()
    return [
        dg.RunRequest(
            run_key=f"{yesterday}|{exchange}",
            partition_key=dg.MultiPartitionKey({"date": yesterday, "exchange": exchange}),
        )
        for exchange in EXCHANGES
    ]
