"""Migrations against a real PostgreSQL: applied once, recorded, a no-op the second time."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from platform_streams.database.migrate import (
    Migration,
    MigrationError,
    apply_migrations,
    discover_migrations,
    migrate,
)
from platform_streams.sinks.candle_rollup import CandleRollup
from platform_streams.sinks.postgres_writer import PostgresWriter
from platform_streams.sinks.tables import TABLES, timestamp
from tests.sinks.candle_oracle import ORACLE, T0, trade

TRADE_COLUMNS = TABLES["trades"].columns


async def fetch(url: str, sql: str, *args):
    connection = await asyncpg.connect(url)
    try:
        return await connection.fetch(sql, *args)
    finally:
        await connection.close()


def tables(url: str) -> set[str]:
    rows = asyncio.run(fetch(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
    return {row["tablename"] for row in rows}


def test_apply_on_empty_database_then_no_op(database_url: str) -> None:
    assert tables(database_url) == set()
    versions = [m.version for m in discover_migrations()]
    assert migrate(database_url) == versions
    created = tables(database_url)
    assert {"trades", "book_top", "candles", "instruments", "orders", "order_events", "fills", "positions"} <= created
    recorded = asyncio.run(fetch(database_url, "SELECT version FROM schema_migrations ORDER BY version"))
    assert [r["version"] for r in recorded] == versions
    assert migrate(database_url) == []
    assert tables(database_url) == created


def test_replayed_rows_are_not_inserted_twice(database_url: str) -> None:
    migrate(database_url)

    async def replay() -> int:
        connection = await asyncpg.connect(database_url)
        try:
            await connection.execute("SELECT ensure_daily_partitions('trades', '2026-11-25', '2026-11-25')")
            insert = (
                "INSERT INTO trades VALUES ('binance', 'BTC/USDT', '42', '2026-11-25T10:00:00Z', 1, 2, 'buy', 65000.01, 0.5)"
                " ON CONFLICT DO NOTHING"
            )
            await connection.execute(insert)
            await connection.execute(insert)
            return await connection.fetchval("SELECT count(*) FROM trades")
        finally:
            await connection.close()

    assert asyncio.run(replay()) == 1


def test_partitions_are_daily_and_idempotent(database_url: str) -> None:
    migrate(database_url)
    created = asyncio.run(fetch(database_url, "SELECT ensure_daily_partitions('candles', '2026-01-30', '2026-02-02') AS n"))
    again = asyncio.run(fetch(database_url, "SELECT ensure_daily_partitions('candles', '2026-01-30', '2026-02-02') AS n"))
    assert created[0]["n"] == 4 and again[0]["n"] == 0
    assert {"candles_p20260130", "candles_p20260202"} <= tables(database_url)


def test_edited_migration_is_refused(database_url: str) -> None:
    original = [Migration(1, "first", "CREATE TABLE a (x int);")]
    asyncio.run(apply_migrations(database_url, original))
    edited = [Migration(1, "first", "CREATE TABLE a (x bigint);")]
    with pytest.raises(MigrationError, match="edited after it was applied"):
        asyncio.run(apply_migrations(database_url, edited))


def test_failed_migration_rolls_back_and_names_itself(database_url: str) -> None:
    broken = [Migration(1, "ok", "CREATE TABLE ok (x int);"), Migration(2, "broken", "CREATE TABLE b (x nosuchtype);")]
    with pytest.raises(MigrationError, match="migration 2 \\(broken\\) failed"):
        asyncio.run(apply_migrations(database_url, broken))
    assert tables(database_url) == {"ok", "schema_migrations"}


def test_discovery_rejects_misnamed_and_duplicate_files(tmp_path: Path) -> None:
    (tmp_path / "0001_a.sql").write_text("SELECT 1;")
    (tmp_path / "1_b.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="not named"):
        discover_migrations(tmp_path)
    (tmp_path / "1_b.sql").unlink()
    (tmp_path / "0001_c.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="two migrations have version 1"):
        discover_migrations(tmp_path)


def test_incremental_candles_backfill_from_stored_trades(database_url: str) -> None:
    """0004 recomputes every candle from its trades, ordering keys included; a candle whose
    trades are gone keeps its values and NULL keys, so later trades never replace its open/close."""
    before, backfill = discover_migrations()[:3], discover_migrations()[3]
    assert backfill.name == "incremental_candles"
    asyncio.run(apply_migrations(database_url, before))
    minute, next_day = timestamp(T0), timestamp(T0 + 86_400_000_000_000)

    async def old_state() -> None:
        connection = await asyncpg.connect(database_url)
        try:
            await connection.execute("SELECT ensure_daily_partitions('trades', $1, $2)", minute.date(), next_day.date())
            await connection.execute("SELECT ensure_daily_partitions('candles', $1, $1)", minute.date())
            trades = [trade("A/USD", str(i), T0 + i * 1_000_000_000 // 3, str(100 + i % 7)) for i in range(12)]
            trades += [trade("A/USD", "5000", T0 + 86_400_000_000_000, "7"), trade("B/USD", "x", T0, "3")]
            await connection.copy_records_to_table("trades", records=trades, columns=TRADE_COLUMNS)
            candle = "INSERT INTO candles VALUES ('test', $1, 60, $2, 1, 1, 1, 1, 1, 1, true)"
            await connection.execute(candle, "A/USD", minute)  # stale, closed
            await connection.execute(candle, "C/USD", minute)  # its trades pruned
        finally:
            await connection.close()

    asyncio.run(old_state())
    assert asyncio.run(apply_migrations(database_url, [*before, backfill])) == [backfill.version]
    got = {(r["symbol"], r["open_time"]): r for r in asyncio.run(fetch(database_url, "SELECT * FROM candles"))}
    want = asyncio.run(fetch(database_url, ORACLE))
    assert len(want) == 3 and len(got) == 4
    for row in want:
        assert {k: got[(row["symbol"], row["open_time"])][k] for k in row.keys()} == dict(row)
    closed = {key: row["closed"] for key, row in got.items()}
    assert closed == {("A/USD", minute): True, ("B/USD", minute): False, ("A/USD", next_day): False, ("C/USD", minute): True}
    pruned = got[("C/USD", minute)]
    assert pruned["open_ts_ns"] is None and pruned["close_trade_id"] is None

    async def fold_into_pruned() -> None:
        writer = PostgresWriter(database_url, candles=CandleRollup())
        try:
            await writer.write({"trades": [trade("C/USD", "1", T0 + 1, "5", "2")]}, now=datetime(2030, 1, 1, tzinfo=UTC))
        finally:
            await writer.close()

    asyncio.run(fold_into_pruned())
    row = asyncio.run(fetch(database_url, "SELECT * FROM candles WHERE symbol = 'C/USD'"))[0]
    assert (row["open"], row["high"], row["low"], row["close"], row["volume"], row["trade_count"]) == (1, 5, 1, 1, 3, 2)


def test_every_instruments_column_says_what_it_means(database_url: str) -> None:
    """The allocator and Dagster read `instruments` directly: each column carries its meaning (0005)."""
    migrate(database_url)
    rows = asyncio.run(
        fetch(
            database_url,
            "SELECT attname, col_description(attrelid, attnum) AS comment FROM pg_attribute"
            " WHERE attrelid = 'instruments'::regclass AND attnum > 0 AND NOT attisdropped",
        )
    )
    assert {"tick_size", "min_notional", "status", "first_seen", "last_seen"} <= {r["attname"] for r in rows}
    assert [r["attname"] for r in rows if not r["comment"]] == []


def test_instrument_reference_keeps_rows_written_before_it(database_url: str) -> None:
    """0005 on a table with a hand-written 0001 row: the row stays valid, its status and times converted."""
    before = [m for m in discover_migrations() if m.version < 5]
    asyncio.run(apply_migrations(database_url, before))
    written = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    asyncio.run(
        fetch(
            database_url,
            "INSERT INTO instruments (exchange, symbol, exchange_symbol, base, quote, price_scale, size_scale,"
            " tick_size, lot_size, updated_at) VALUES ('binance', 'BTC/USDT', 'BTCUSDT', 'BTC', 'USDT', 2, 5, 0.01,"
            " 0.00001, $1)",
            written,
        )
    )
    assert migrate(database_url)[0] == 5  # 0005 first, then any later ones
    (row,) = asyncio.run(fetch(database_url, "SELECT * FROM instruments"))
    assert (row["status"], row["kind"], row["min_notional"], row["first_seen"], row["last_seen"]) == (
        "active", "spot", 0, written, written,
    )  # fmt: skip
