"""daily_trade_bars over stored trades in real PostgreSQL: exact bars per exchange and symbol,
a day's trades only, recomputed idempotently, and a day without trades failing its check."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import asyncpg
import dagster as dg

from platform_assets.market_data.trade_bars import HAS_TRADES, daily_trade_bars
from platform_assets.resources.platform_servers import PostgresResource
from platform_streams.database.migrate import migrate

DAY = date(2026, 12, 5)
START = datetime(2026, 12, 5, tzinfo=UTC)


def store_trades(database_url: str, trades: list[tuple[str, str, str, datetime, str, str, str]]) -> None:
    async def run() -> None:
        connection = await asyncpg.connect(database_url)
        try:
            await connection.execute("SELECT ensure_daily_partitions('trades'::regclass, $1, $2)", DAY, DAY + timedelta(days=1))
            await connection.executemany(
                "INSERT INTO trades (exchange, symbol, trade_id, ts, exchange_ts_ns, receive_ts_ns, side, price, size)"
                " VALUES ($1, $2, $3, $4, 0, 0, $5, $6::numeric, $7::numeric)",
                [(e, s, i, ts, side, p, q) for e, s, i, ts, side, p, q in trades],
            )
        finally:
            await connection.close()

    asyncio.run(run())


def bars(database_url: str) -> dict[tuple[str, str], asyncpg.Record]:
    async def run() -> list[asyncpg.Record]:
        connection = await asyncpg.connect(database_url)
        try:
            return await connection.fetch("SELECT * FROM daily_trade_bars")
        finally:
            await connection.close()

    return {(r["exchange"], r["symbol"]): r for r in asyncio.run(run())}


def test_daily_bars_are_exact_per_instrument_and_recomputed_idempotently(database_url: str) -> None:
    migrate(database_url)
    at = lambda minutes: START + timedelta(minutes=minutes)  # noqa: E731
    store_trades(
        database_url,
        [  # inserted out of time order on purpose
            ("binance", "BTC/USDT", "3", at(600), "sell", "100.5", "0.2"),
            ("binance", "BTC/USDT", "1", at(1), "buy", "100.1", "0.1"),
            ("binance", "BTC/USDT", "2", at(300), "buy", "101.9", "0.3"),
            ("binance", "BTC/USDT", "4", at(1440 + 5), "buy", "250", "9"),  # the next day: not in this bar
            ("okx", "BTC/USDT", "a", at(10), "sell", "99.7", "1.5"),
        ],
    )
    resources = {"postgres": PostgresResource(url=database_url)}
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([daily_trade_bars], partition_key=DAY.isoformat(), resources=resources, instance=instance)
    assert result.success and result.get_asset_check_evaluations()[0].passed
    stored = bars(database_url)
    binance = stored[("binance", "BTC/USDT")]
    assert (binance["open"], binance["high"], binance["low"], binance["close"]) == (
        Decimal("100.1"), Decimal("101.9"), Decimal("100.1"), Decimal("100.5"),
    )  # fmt: skip
    assert binance["volume"] == Decimal("0.6") and binance["buy_volume"] == Decimal("0.4") and binance["trades"] == 3
    assert binance["notional"] == Decimal("100.1") * Decimal("0.1") + Decimal("101.9") * Decimal("0.3") + Decimal(
        "100.5"
    ) * Decimal("0.2")
    assert stored[("okx", "BTC/USDT")]["volume"] == Decimal("1.5")
    (materialization,) = result.asset_materializations_for_node("daily_trade_bars")
    assert materialization.metadata["trades"].value == 4 and materialization.metadata["trades_okx"].value == 1
    assert "| binance | BTC/USDT | 0.6 |" in materialization.metadata["volume_per_instrument"].value

    again = dg.materialize([daily_trade_bars], partition_key=DAY.isoformat(), resources=resources, instance=instance)
    assert again.success and {k: (r["volume"], r["trades"]) for k, r in bars(database_url).items()} == {
        k: (r["volume"], r["trades"]) for k, r in stored.items()
    }
    empty = dg.materialize([daily_trade_bars], partition_key="2026-12-01", resources=resources, instance=instance)
    (check,) = empty.get_asset_check_evaluations()
    assert check.check_name == HAS_TRADES and not check.passed
