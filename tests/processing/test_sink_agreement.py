"""One candle definition: the PostgreSQL sink's one-minute candles (folded in SQL as it inserts
trades) equal the stream's (folded in Python by the processing stage) on the same trades, against a
real PostgreSQL: random trades in shuffled batches with replays, and recorded Binance trades."""

from __future__ import annotations

import asyncio
import functools
import random
from datetime import UTC, datetime
from decimal import Decimal

import asyncpg
import pytest

from platform_streams.database.migrate import migrate
from platform_streams.exchanges.binance.parser import BinanceParser
from platform_streams.processing.candles import CandleFolder
from platform_streams.schemas import Candle, Trade
from platform_streams.schemas.fixed_point import to_decimal
from platform_streams.sinks.candle_rollup import CandleRollup
from platform_streams.sinks.postgres_writer import PostgresWriter
from platform_streams.sinks.tables import timestamp, trade_row
from tests.exchanges.captures import read_capture
from tests.processing.trade_samples import random_trades

LATER = datetime(2030, 1, 1, tzinfo=UTC)
LATENESS = 250_000_000
CandleRow = tuple[str, str, datetime, Decimal, Decimal, Decimal, Decimal, Decimal, int]


@pytest.fixture
def url(database_url: str) -> str:
    migrate(database_url)
    return database_url


def sink_candles(url: str, batches: list[list[Trade]]) -> set[CandleRow]:
    """The trades through the sink's writer, batch by batch; then its stored one-minute candles."""

    async def run() -> list[asyncpg.Record]:
        writer = PostgresWriter(url, candles=CandleRollup(5.0))
        try:
            for batch in batches:
                await writer.write({"trades": [trade_row(t).values for t in batch]}, now=LATER)
        finally:
            await writer.close()
        connection = await asyncpg.connect(url)
        try:
            return await connection.fetch(
                "SELECT exchange, symbol, open_time, open, high, low, close, volume, trade_count, closed"
                " FROM candles WHERE interval_s = 60"
            )
        finally:
            await connection.close()

    rows = asyncio.run(run())
    assert all(row["closed"] for row in rows)
    return {tuple(row.values())[:-1] for row in rows}  # type: ignore[misc]


def stream_candles(arrivals: list[Trade]) -> set[CandleRow]:
    folder = CandleFolder([60], LATENESS, publish_first=True)
    closed: list[Candle] = [c for t in arrivals for c in folder.add(t)]
    closed += folder.advance_clock(2**62)
    assert folder.late_trades == 0
    return {as_row(c) for c in closed}


def as_row(c: Candle) -> CandleRow:
    price = functools.partial(to_decimal, scale=c.price_scale)
    return (
        c.exchange, c.symbol, timestamp(c.open_ts_ns), price(c.open), price(c.high), price(c.low), price(c.close),
        to_decimal(c.volume, c.size_scale), c.trade_count,
    )  # fmt: skip


def jittered(rng: random.Random, trades: list[Trade]) -> list[Trade]:
    """The order a stream may see: each trade (and a replay of every seventh) up to the lateness late."""
    copies = trades + trades[::7]
    keyed = sorted(((t.exchange_ts_ns + rng.randrange(LATENESS), n), t) for n, t in enumerate(copies))
    return [t for _, t in keyed]


def shuffled_batches(rng: random.Random, trades: list[Trade]) -> list[list[Trade]]:
    """The sink's view: any order, in batches, with replays."""
    copies = rng.sample(trades + trades[::5], len(trades) + len(trades[::5]))
    cuts = sorted(rng.sample(range(1, len(copies)), 10))
    return [copies[a:b] for a, b in zip([0, *cuts], [*cuts, len(copies)], strict=True)]


def test_sink_and_stream_candles_agree_on_random_trades(url: str) -> None:
    rng = random.Random(11)
    trades = random_trades(rng, 4_000, symbols=("A/USD", "B/USD", "C/USD"), span_s=300)
    stream = stream_candles(jittered(rng, trades))
    assert len(stream) == 15
    assert sink_candles(url, shuffled_batches(rng, trades)) == stream


def recorded_trades(capture: str) -> list[Trade]:
    parser = BinanceParser()
    return [
        event
        for record in read_capture(capture)
        if record.direction == "in"
        for event in parser.parse(record.frame, record.receive_ts_ns)
        if isinstance(event, Trade)
    ]


@pytest.mark.parametrize(
    "capture", ["binance/2024-08-08_hftbacktest_spot_BTCUSDT.jsonl.gz", "binance/2021-04-05_cryptofeed_spot_10sym.jsonl"]
)
def test_sink_and_stream_candles_agree_on_recorded_trades(url: str, capture: str) -> None:
    trades = recorded_trades(capture)
    stream = stream_candles(sorted(trades, key=lambda t: t.exchange_ts_ns))  # as an instrument's partition delivers them
    assert len(stream) >= 3 and sum(row[-1] for row in stream) == len({(t.key, t.trade_id) for t in trades})
    assert sink_candles(url, shuffled_batches(random.Random(2), trades)) == stream
