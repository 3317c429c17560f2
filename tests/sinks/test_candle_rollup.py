"""Incremental candles against a real PostgreSQL: after any sequence of batches, replays and
late trades, the candles equal a from-scratch aggregate of the stored trades."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from platform_streams.database.migrate import migrate
from platform_streams.sinks.candle_rollup import SWEEP_OVERLAP, CandleRollup
from platform_streams.sinks.postgres_writer import PostgresWriter
from platform_streams.sinks.tables import timestamp
from tests.sinks.candle_oracle import CANDLE_COLUMNS, MINUTE_NS, ORACLE, T0, trade

LATER = datetime(2030, 1, 1, tzinfo=UTC)  # a `now` after which every test minute is closed


async def fetch(url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(url)
    try:
        return await connection.fetch(sql, *args)
    finally:
        await connection.close()


def rows(url: str, sql: str) -> dict[tuple, dict[str, Any]]:
    return {(r["exchange"], r["symbol"], r["open_time"]): dict(r) for r in asyncio.run(fetch(url, sql))}


def candles(url: str) -> dict[tuple, dict[str, Any]]:
    return rows(url, "SELECT * FROM candles")


def assert_candles_match_trades(url: str) -> None:
    want = rows(url, ORACLE)
    got = rows(url, f"SELECT {CANDLE_COLUMNS} FROM candles")
    assert got == want


def write(url: str, batches: Sequence[Sequence[tuple[Any, ...]]], now: datetime = LATER, grace_s: float = 5.0) -> list[int]:
    """Each batch through one writer, as the sink does; returns trades inserted per batch."""

    async def run() -> list[int]:
        writer = PostgresWriter(url, candles=CandleRollup(grace_s))
        try:
            return [(await writer.write({"trades": list(batch)}, now=now))["trades"] for batch in batches]
        finally:
            await writer.close()

    return asyncio.run(run())


def random_trades(rng: random.Random, count: int) -> list[tuple[Any, ...]]:
    """Trades over three instruments and three minutes, with many equal exchange times and
    trade ids of different lengths, so ties are broken by id length then id."""
    trades = []
    for n in range(count):
        ts_ns = T0 + rng.randrange(3 * MINUTE_NS // 1_000_000_000) * 1_000_000_000  # whole seconds: many ties
        symbol = rng.choice(("A/USD", "B/USD", "C/USD"))
        price, size = f"{rng.randint(90, 110)}.{rng.randint(0, 99):02d}", f"0.{rng.randint(1, 999):03d}"
        trades.append(trade(symbol, str(n * 7 % 1013), ts_ns, price, size))
    return trades


def batches_of(rng: random.Random, trades: list[tuple[Any, ...]]) -> list[list[tuple[Any, ...]]]:
    shuffled = rng.sample(trades, len(trades))
    cuts = sorted(rng.sample(range(1, len(shuffled)), 12))
    return [shuffled[a:b] for a, b in zip([0, *cuts], [*cuts, len(shuffled)], strict=True)]


@pytest.fixture
def url(database_url: str) -> str:
    migrate(database_url)
    return database_url


def test_batches_in_any_order_equal_a_full_aggregate(url: str) -> None:
    rng = random.Random(7)
    trades = random_trades(rng, 600)
    assert sum(write(url, batches_of(rng, trades))) == 600
    assert len(candles(url)) == 9
    assert_candles_match_trades(url)
    assert all(c["closed"] for c in candles(url).values())


def test_a_replay_changes_nothing(url: str) -> None:
    rng = random.Random(11)
    trades = random_trades(rng, 400)
    write(url, batches_of(rng, trades))
    before = candles(url)
    assert write(url, batches_of(rng, trades)) == [0] * 13  # nothing inserted, nothing folded
    assert write(url, [trades[:50] + trades[:50]]) == [0]  # duplicates within a batch too
    assert candles(url) == before  # not even touched: updated_at unchanged


def test_duplicates_inside_one_new_batch_count_once(url: str) -> None:
    batch = [trade("A/USD", "1", T0, "10"), trade("A/USD", "1", T0, "10"), trade("A/USD", "2", T0 + 1, "11")]
    assert write(url, [batch]) == [2]
    assert_candles_match_trades(url)
    assert next(iter(candles(url).values()))["trade_count"] == 2


def test_a_late_trade_updates_its_old_minute(url: str) -> None:
    first = [trade("A/USD", str(i), T0 + i * 1_000_000_000, str(100 + i)) for i in range(1, 30)]
    next_minute = [trade("A/USD", str(100 + i), T0 + MINUTE_NS + i, "200") for i in range(5)]
    write(url, [first, next_minute])
    late = [trade("A/USD", "0", T0, "50", "3"), trade("A/USD", "99", T0 + 59_999_999_999, "500")]
    assert write(url, [late]) == [2]
    assert_candles_match_trades(url)
    old = candles(url)[("test", "A/USD", timestamp(T0))]
    assert (old["open"], old["close"], old["low"], old["high"], old["trade_count"]) == (50, 500, 50, 500, 31)
    assert old["closed"]


def test_ties_are_broken_by_id_length_then_id(url: str) -> None:
    same_time = T0 + 5_000_000_000
    # arriving last-key first: "10" sorts after "9" (longer), "11" after "10"
    write(url, [[trade("A/USD", trade_id, same_time, price)] for trade_id, price in (("11", "3"), ("10", "2"), ("9", "1"))])
    candle = next(iter(candles(url).values()))
    assert (candle["open"], candle["open_trade_id"], candle["close"], candle["close_trade_id"]) == (1, "9", 3, "11")
    # same length: plain order; an earlier time wins whatever the id
    write(url, [[trade("A/USD", "12", same_time, "4")], [trade("A/USD", "100", same_time - 1, "5")]])
    candle = next(iter(candles(url).values()))
    assert (candle["open"], candle["open_trade_id"], candle["close"], candle["close_trade_id"]) == (5, "100", 4, "12")
    assert_candles_match_trades(url)


def test_minutes_close_after_the_grace(url: str) -> None:
    start = timestamp(T0)
    trades = [trade("A/USD", "1", T0 + 1_000_000_000, "10"), trade("B/USD", "2", T0 + MINUTE_NS, "20")]
    write(url, [trades], now=start + timedelta(seconds=30), grace_s=5)  # both minutes still running
    assert not any(c["closed"] for c in candles(url).values())

    async def sweep(rollup: CandleRollup, now: datetime) -> int:
        writer = PostgresWriter(url, candles=rollup)
        try:
            return await rollup.close_due(writer, now)
        finally:
            await writer.close()

    rollup = CandleRollup(close_grace_s=5)
    assert asyncio.run(sweep(rollup, start + timedelta(seconds=64))) == 0  # ended 4 s ago: within the grace
    assert asyncio.run(sweep(rollup, start + timedelta(seconds=65))) == 1
    closed = {key[1]: c["closed"] for key, c in candles(url).items()}
    assert closed == {"A/USD": True, "B/USD": False}
    assert asyncio.run(sweep(rollup, start + timedelta(seconds=125))) == 1
    assert all(c["closed"] for c in candles(url).values())
    # a trade for a closed minute still counts; the candle stays closed
    write(url, [[trade("A/USD", "3", T0 + 2_000_000_000, "11")]], now=start + timedelta(seconds=130), grace_s=5)
    assert_candles_match_trades(url)
    assert all(c["closed"] for c in candles(url).values())


def test_sweeps_after_the_first_look_only_at_recent_minutes() -> None:
    rollup = CandleRollup(close_grace_s=5)
    now = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    since, cutoff = rollup.sweep_range(now)
    assert since.year == 1970 and cutoff == now - timedelta(seconds=65)
    rollup._swept_to = cutoff  # noqa: SLF001 (what close_due records)
    since, later_cutoff = rollup.sweep_range(now + timedelta(seconds=2))
    assert since == cutoff - SWEEP_OVERLAP and later_cutoff == cutoff + timedelta(seconds=2)


def test_staging_is_emptied_at_commit_without_new_storage(url: str) -> None:
    async def run() -> tuple[list[int], list[int]]:
        writer = PostgresWriter(url, candles=CandleRollup())
        try:
            await writer.write({"trades": [trade("A/USD", "1", T0, "10")]}, now=LATER)
            connection = writer._connection  # noqa: SLF001
            assert connection is not None
            first = await connection.fetchval("SELECT pg_relation_filenode('stage_trades')")
            await writer.write({"trades": [trade("A/USD", "2", T0 + 1, "11")]}, now=LATER)
            staged = await connection.fetchval("SELECT count(*) FROM stage_trades")
            second = await connection.fetchval("SELECT pg_relation_filenode('stage_trades')")
            return [first, staged], [second]
        finally:
            await writer.close()

    (first, staged), (second,) = asyncio.run(run())
    assert staged == 0 and first == second


def test_a_failed_batch_leaves_the_writer_usable(url: str) -> None:
    async def run() -> int:
        writer = PostgresWriter(url, candles=CandleRollup())
        try:
            with pytest.raises(asyncpg.CheckViolationError):  # the very first batch fails and rolls back
                await writer.write({"trades": [trade("A/USD", "1", T0, "-1")]}, now=LATER)
            return (await writer.write({"trades": [trade("A/USD", "2", T0, "10")]}, now=LATER))["trades"]
        finally:
            await writer.close()

    assert asyncio.run(run()) == 1
    assert_candles_match_trades(url)
