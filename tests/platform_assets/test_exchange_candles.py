"""The exchange_candles asset: fetching a day page by page, and partitions materialised in-process
against the exchange simulator (ccxt unchanged but its URLs) and real PostgreSQL — a backfill of
several day × exchange partitions, stored idempotently, with its gap, duplicate and freshness checks."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import dagster as dg
import pytest

from platform_assets.market_data.candle_assets import (
    NO_DUPLICATES,
    NO_GAPS,
    CandleFetchConfig,
    _gap_check,
    daily_exchange_candles,
    exchange_candles,
    exchange_candles_fresh,
)
from platform_assets.market_data.ohlcv_fetch import DAY_MS, fetch_day, missing_intervals
from platform_assets.resources.exchanges import ExchangesResource
from platform_assets.resources.platform_servers import PostgresResource
from platform_streams.database.migrate import migrate
from platform_streams.simulator.config import load_simulator_config
from platform_streams.simulator.server import SimulatorThread

MINUTE = 60_000


class PagedExchange:
    """A fetch_ohlcv that answers at most ``page`` candles from ``since``, missing some minutes."""

    def __init__(self, day_start: int, missing: set[int], page: int) -> None:
        self.candles = [[day_start + m * MINUTE, "1.0", "1.2", "0.9", "1.1", "5"] for m in range(1440) if m not in missing]
        self.page = page
        self.calls: list[tuple[int | None, int | None]] = []

    async def fetch_ohlcv(
        self, symbol: str, timeframe: str, since: int | None = None, limit: int | None = None
    ) -> list[list[Any]]:
        self.calls.append((since, limit))
        return [c for c in self.candles if since is None or c[0] >= since][: min(limit or self.page, self.page)]


def test_a_day_is_fetched_page_by_page_without_the_open_candle_and_gaps_are_found() -> None:
    day_start = 1_796_515_200_000  # a UTC midnight
    exchange = PagedExchange(day_start, missing={10, 11, 500}, page=300)
    granted = []

    async def grant() -> None:
        granted.append(1)

    rows = asyncio.run(fetch_day(exchange, "okx", "BTC/USDT", day_start, "1m", day_start + DAY_MS + 5 * MINUTE, grant))
    assert len(rows) == 1437 and rows[0].open_time_ms == day_start and rows[-1].open_time_ms == day_start + 1439 * MINUTE
    assert len(exchange.calls) == len(granted) == 15 and all(limit == 100 for _, limit in exchange.calls)  # OKX: 100 a page
    assert missing_intervals([r.open_time_ms for r in rows], MINUTE) == [
        (day_start + 10 * MINUTE, 2),
        (day_start + 500 * MINUTE, 1),
    ]
    # today's partition: only candles closed by now
    now = day_start + 90 * MINUTE + 30_000
    today = asyncio.run(fetch_day(PagedExchange(day_start, set(), 1000), "binance", "BTC/USDT", day_start, "1m", now))
    assert len(today) == 90 and rows[0].close == "1.1"
    check = _gap_check(["BTC/USDT", "ETH/USDT"], {"BTC/USDT": [r.open_time_ms for r in rows]}, MINUTE)
    assert not check.passed and check.metadata["missing_candles"].value == 3
    assert check.metadata["symbols_without_candles"].value == "ETH/USDT"


def stored(database_url: str) -> list[asyncpg.Record]:
    async def rows() -> list[asyncpg.Record]:
        connection = await asyncpg.connect(database_url)
        try:
            return await connection.fetch(
                "SELECT exchange, symbol, open_time, open, high, low, close, volume FROM exchange_candles ORDER BY 1, 2, 3"
            )
        finally:
            await connection.close()

    return asyncio.run(rows())


@pytest.mark.e2e
def test_a_backfill_of_several_partitions_from_the_simulator_is_stored_once_and_checked(database_url: str) -> None:
    migrate(database_url)
    config = load_simulator_config({"exchanges": ["binance", "okx", "kraken"], "instruments": 3, "rate": 20, "seed": 11})
    today = datetime.now(UTC).date()
    days = [today - timedelta(days=2), today - timedelta(days=1)]
    with SimulatorThread(config) as simulator:
        resources = {
            "exchanges": ExchangesResource(rest_urls={e: u.rest for e, u in simulator.urls.items()}, budget_socket=""),
            "postgres": PostgresResource(url=database_url),
        }
        instance = dg.DagsterInstance.ephemeral()
        run_config = dg.RunConfig(ops={"exchange_candles": CandleFetchConfig(max_symbols=2)})

        def materialize(day: date, exchange: str) -> dg.ExecuteInProcessResult:
            key = dg.MultiPartitionKey({"date": day.isoformat(), "exchange": exchange})
            return dg.materialize(
                [exchange_candles], partition_key=key, resources=resources, instance=instance, run_config=run_config
            )

        for day in days:
            for exchange in ("binance", "okx"):
                result = materialize(day, exchange)
                assert result.success
                checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
                assert checks[NO_GAPS].passed and checks[NO_DUPLICATES].passed
                (materialization,) = result.asset_materializations_for_node("exchange_candles")
                assert materialization.metadata["candles"].value == 2 * 1440 and materialization.metadata["symbols"].value == 2
        rows = stored(database_url)
        assert len(rows) == 2 * 2 * 2 * 1440  # days × exchanges × symbols × minutes
        assert all(r["low"] <= min(r["open"], r["close"]) and max(r["open"], r["close"]) <= r["high"] for r in rows)
        assert all(isinstance(r["close"], Decimal) and r["volume"] >= 0 for r in rows)
        per_day = {(r["exchange"], r["open_time"].date()) for r in rows}
        assert per_day == {(e, d) for e in ("binance", "okx") for d in days}

        # fetched again: the same rows, not twice
        assert materialize(days[0], "okx").success
        assert stored(database_url) == rows
        # a repair names the exchange's own ids: only that instrument is fetched and replaced
        symbol = next(r["symbol"] for r in rows if r["exchange"] == "binance")
        repair = dg.materialize(
            [exchange_candles],
            partition_key=dg.MultiPartitionKey({"date": days[1].isoformat(), "exchange": "binance"}),
            resources=resources,
            instance=instance,
            run_config=dg.RunConfig(ops={"exchange_candles": CandleFetchConfig(exchange_symbols=[symbol.replace("/", "")])}),
        )
        (materialization,) = repair.asset_materializations_for_node("exchange_candles")
        assert (materialization.metadata["symbols"].value, materialization.metadata["candles"].value) == (1, 1440)
        assert stored(database_url) == rows

        # freshness: kraken was never fetched
        fresh = dg.materialize(
            [exchange_candles, exchange_candles_fresh],
            selection=dg.AssetSelection.checks(exchange_candles_fresh),
            resources=resources,
            instance=instance,
        )
        (verdict,) = fresh.get_asset_check_evaluations()
        assert not verdict.passed and verdict.metadata["stale"].value == "kraken"


def test_the_daily_schedule_asks_for_yesterday_on_every_exchange() -> None:
    context = dg.build_schedule_context(scheduled_execution_time=datetime(2026, 12, 7, 0, 15, tzinfo=UTC))
    requests = daily_exchange_candles(context)
    assert isinstance(requests, list)
    assert [r.partition_key for r in requests] == [
        dg.MultiPartitionKey({"date": "2026-12-06", "exchange": e}) for e in ("binance", "okx", "kraken")
    ]
    assert len({r.run_key for r in requests}) == 3  # a tick evaluated twice does not fetch twice
