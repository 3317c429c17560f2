"""Benchmark of backtests: events replayed per second through a strategy and the whole trading
chain on one core, and the wall time of a 30-day, 100-instrument, 1-minute backtest from
PostgreSQL.

(a) ``events_per_s``: one instrument's one-minute bars (a seeded random walk, ``--bars`` of them)
    replayed through ``ReplayChain`` with the EMA-crossover strategy at its default parameters:
    the strategy, its budget, the live risk limits, the paper venue filling at bar quotes, the
    positions and the equity sampled every minute. CPU time (``process_time``: the machine is
    shared) over ``--runs`` runs; min/median/max printed, the median reported.
(b) ``backtest_30d_100i_s``: ``--days`` days of one-minute klines of ``--instruments`` instruments
    written to ``exchange_candles`` (as the market-data assets backfill them) in a real
    PostgreSQL (embedded, or ``DATABASE_URL``), then the backtest the Dagster asset runs
    (``run_stored_backtest``: reference data and candles read day by day, the replay, the
    performance figures and the equity plot), EMA crossover on every instrument. Wall time over
    ``--runs`` runs; min/median/max printed, the median reported.

    .venv/bin/python benchmarks/backtest.py            # the issue's sizes
    .venv/bin/python benchmarks/backtest.py --smoke    # seconds: that it runs

The last line is JSON: ``{"events_per_s": …, "backtest_30d_100i_s": …}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from platform_streams.backtesting.replay_chain import ReplayChain  # noqa: E402
from platform_streams.risk.budgets import AccountAllocationSettings, deployment_budgets  # noqa: E402
from platform_streams.risk.limits import RiskLimits  # noqa: E402
from platform_streams.schemas import Candle, Instrument  # noqa: E402
from platform_streams.strategy_host.strategy_deployment import StrategyDeploymentSpec  # noqa: E402

NS = 1_000_000_000
FIRST_DAY = date(2026, 10, 1)
STRATEGY = "ema-crossover"
PARAMETERS = {"position_size": "0.01"}  # the strategy's default periods (12 and 26 bars)


def instrument(n: int) -> Instrument:
    symbol = f"C{n:03d}/USDT"
    return Instrument("binance", symbol, symbol.replace("/", ""), symbol[:4], "USDT", 2, 4, 1, 1, min_size=1)


def walk_bars(key: str, bars: int, seed: int) -> list[Candle]:
    """One-minute bars of a random walk around 1,000.00 (mantissas at scale 2)."""
    rng, price, found = random.Random(seed), 100_000, []
    exchange, symbol = key.split(":")
    start = int(datetime(FIRST_DAY.year, FIRST_DAY.month, FIRST_DAY.day, tzinfo=UTC).timestamp()) * NS
    for i in range(bars):
        opened = price
        price = max(price + rng.randint(-60, 60), 1_000)
        high, low = max(opened, price) + rng.randint(0, 20), min(opened, price) - rng.randint(0, 20)
        open_ns = start + i * 60 * NS
        found.append(Candle(exchange, symbol, open_ns + 60 * NS, open_ns + 60 * NS, 0, 60, open_ns,
                            opened, high, low, price, rng.randint(1, 50_000), 0, True, 2, 4))  # fmt: skip
    return found


def chain_for(instruments: list[Instrument]) -> ReplayChain:
    from platform_assets.backtests.stored_backtest import live_risk_limits

    spec = StrategyDeploymentSpec(
        id="bench", strategy=STRATEGY, instruments=[i.key for i in instruments], account="bench", parameters=PARAMETERS
    )
    budgets = deployment_budgets({"bench": AccountAllocationSettings(capital="100000", deployments=["bench"])})
    return ReplayChain(spec, {i.key: i for i in instruments}, Fraction(100_000), RiskLimits(live_risk_limits()), budgets)


def replay_rate(bars: int, runs: int) -> list[float]:
    """(a): events per CPU second of each run."""
    one = instrument(0)
    events = walk_bars(one.key, bars, seed=1)
    rates = []
    for run in range(runs):
        chain = chain_for([one])
        started = time.process_time()
        record = chain.run(events)
        rates.append(len(events) / (time.process_time() - started))
        if run == 0:
            print(f"(a) {len(events):,} bars of one instrument: {record.orders:,} orders, {len(record.fills):,} fills, "
                  f"{len(record.samples):,} equity samples, rejections {record.rejections}", flush=True)  # fmt: skip
    return rates


_KLINES = """
INSERT INTO exchange_candles (exchange, symbol, interval_s, open_time, open, high, low, close, volume)
SELECT 'binance', symbol, 60, open_time,
       round(coalesce(lag(close) OVER w, close), 2), round(greatest(coalesce(lag(close) OVER w, close), close) + wick, 2),
       round(least(coalesce(lag(close) OVER w, close), close) - wick, 2), close, volume
FROM (
    SELECT 'C' || lpad(i::text, 3, '0') || '/USDT' AS symbol, $1::timestamptz + make_interval(mins => m) AS open_time,
           round(1000 + sum(round((random() - 0.5)::numeric * 1.2, 2)) OVER (PARTITION BY i ORDER BY m), 2) AS close,
           round((random() * 0.2)::numeric, 2) AS wick, round((random() * 5)::numeric, 4) AS volume
    FROM generate_series(0, $2 - 1) AS i, generate_series(0, $3 - 1) AS m
) walk
WINDOW w AS (PARTITION BY symbol ORDER BY open_time)
"""


async def store_klines(database_url: str, instruments: list[Instrument], days: int) -> int:
    import asyncpg

    from platform_streams.sinks.postgres_writer import PostgresWriter
    from platform_streams.sinks.tables import instrument_row

    published = datetime(2030, 1, 1, tzinfo=UTC)
    writer = PostgresWriter(database_url)
    try:
        await writer.write({"instruments": [instrument_row(i, published).values for i in instruments]}, now=published)
    finally:
        await writer.close()
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute("SELECT setseed(0.7)")
        await connection.execute(
            "SELECT ensure_daily_partitions('exchange_candles', $1, $2)", FIRST_DAY, FIRST_DAY + timedelta(days=days - 1)
        )
        start = datetime(FIRST_DAY.year, FIRST_DAY.month, FIRST_DAY.day, tzinfo=UTC)
        await connection.execute(_KLINES, start, len(instruments), days * 1440)
        await connection.execute("ANALYZE exchange_candles")
        return await connection.fetchval("SELECT count(*) FROM exchange_candles")
    finally:
        await connection.close()


def stored_backtests(database_url: str, instruments: int, days: int, runs: int) -> list[float]:
    """(b): the wall time of each run of the stored backtest."""
    from tqdm import tqdm

    from platform_assets.backtests.stored_backtest import BacktestRequest, run_stored_backtest
    from platform_streams.database.migrate import migrate

    migrate(database_url)
    reference = [instrument(n) for n in range(instruments)]
    started = time.monotonic()
    rows = asyncio.run(store_klines(database_url, reference, days))
    print(f"(b) stored {rows:,} one-minute klines of {instruments} instruments over {days} days "
          f"in {time.monotonic() - started:.1f} s", flush=True)  # fmt: skip
    end = FIRST_DAY + timedelta(days=days)
    request = BacktestRequest(
        strategy=STRATEGY, parameters=PARAMETERS, instruments=[i.key for i in reference],
        start=FIRST_DAY.isoformat(), end=end.isoformat(), candle_source="exchange",
    )  # fmt: skip
    seconds = []
    for run in tqdm(range(runs), desc="(b) backtests", unit="run", file=sys.stderr):
        started = time.monotonic()
        outcome = run_stored_backtest(database_url, request, deployment_id="bench")
        seconds.append(time.monotonic() - started)
        if run == 0:
            record = outcome.record
            print(f"(b) {record.events:,} bars: {record.orders:,} orders, {len(record.fills):,} fills, "
                  f"{len(record.samples):,} equity samples, PNG {len(outcome.png):,} bytes, rejections {record.rejections}", flush=True)  # fmt: skip
    return seconds


def spread(values: list[float], unit: str, digits: int) -> str:
    return (
        " / ".join(f"{v:,.{digits}f}" for v in (min(values), statistics.median(values), max(values)))
        + f" {unit} (min / median / max)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bars", type=int, default=200_000, help="(a): one instrument's bars replayed per run")
    parser.add_argument("--instruments", type=int, default=100, help="(b)")
    parser.add_argument("--days", type=int, default=30, help="(b)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: that it runs")
    args = parser.parse_args()
    if args.smoke:
        args.bars, args.instruments, args.days, args.runs = 3_000, 3, 1, 1

    rates = replay_rate(args.bars, args.runs)
    print(f"(a) events/s on one core: {spread(rates, 'events/s', 0)}", flush=True)

    database_url = os.environ.get("DATABASE_URL")
    postgres, state = None, None
    if not database_url:
        from platform_streams.embedded.postgres import EmbeddedPostgres

        state = Path(tempfile.mkdtemp(prefix="bench-backtest-"))
        postgres = EmbeddedPostgres(state / "pg")
        database_url = postgres.start()
    try:
        seconds = stored_backtests(database_url, args.instruments, args.days, args.runs)
    finally:
        if postgres is not None:
            postgres.stop()
        if state is not None:
            shutil.rmtree(state, ignore_errors=True)  # the klines' database: 1.7 GB at the issue's sizes
    print(f"(b) {args.days}-day, {args.instruments}-instrument backtest: {spread(seconds, 's', 2)}", flush=True)
    print(
        json.dumps({"events_per_s": round(statistics.median(rates)), "backtest_30d_100i_s": round(statistics.median(seconds), 2)})
    )


if __name__ == "__main__":
    main()
