"""Backtest assets over market data stored in a real PostgreSQL: the replay of the stored trades,
tops of book and candles equals the trading chain's replay of the very events that were stored;
metrics, the equity plot and a backtest_results row; the gate check against thresholds; a clear
failure for an instrument without reference data."""

from __future__ import annotations

import asyncio
import base64
import io
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import asyncpg
import dagster as dg
import msgspec
import pytest
from PIL import Image

from platform_assets.backtests.backtest_assets import BACKTEST_ASSETS, asset_name
from platform_assets.backtests.stored_backtest import live_risk_limits
from platform_assets.resources.platform_servers import PostgresResource
from platform_streams.backtesting.performance import performance
from platform_streams.backtesting.replay_chain import ReplayChain
from platform_streams.database.migrate import migrate
from platform_streams.processing.candles import CandleFolder
from platform_streams.risk.budgets import AccountAllocationSettings, deployment_budgets
from platform_streams.risk.limits import RiskLimits
from platform_streams.schemas import BestBidOffer, Candle, Instrument, Side, Trade
from platform_streams.sinks.candle_rollup import CandleRollup
from platform_streams.sinks.postgres_writer import PostgresWriter
from platform_streams.sinks.tables import bbo_row, instrument_row, trade_row
from platform_streams.strategy_host.strategy_deployment import StrategyDeploymentSpec
from strategies.catalog import STRATEGIES
from tests.platform_assets.test_indicator_assets import MIDNIGHT_NS, walk_trades

BTC = Instrument("binance", "BTC/USDT", "BTCUSDT", "BTC", "USDT", 2, 3, 1, 1, min_size=1)
START, END = "2026-11-20T00:00:00+00:00", "2026-11-20T06:00:00+00:00"
LATER = datetime(2030, 1, 1, tzinfo=UTC)
MOMENTUM = {"fast_period": 3, "slow_period": 8, "position_size": "0.05", "bar_interval_s": 60}


def quotes_for(trades: list[Trade]) -> list[BestBidOffer]:
    """A top of book a millisecond before each trade, one tick either side of its price."""
    return [
        BestBidOffer(
            t.exchange,
            t.symbol,
            t.exchange_ts_ns - 10**6,
            t.receive_ts_ns - 10**6,
            n,
            t.price - 1,
            2_000,
            t.price + 1,
            3_000,
            2,
            3,
        )  # fmt: skip
        for n, t in enumerate(trades, 1)
    ]


def candles_for(trades: list[Trade]) -> list[Candle]:
    folder = CandleFolder([60], 250_000_000, publish_first=True)
    closed = [c for t in trades for c in folder.add(t)] + folder.advance_clock(2**62)
    # as the stored ones read back: received at their close, as the stream publishes them
    return [msgspec.structs.replace(c, exchange_ts_ns=c.open_ts_ns + 60 * 10**9, receive_ts_ns=c.open_ts_ns + 60 * 10**9,
                                    sequence=0) for c in closed]  # fmt: skip


@pytest.fixture(scope="module")
def market() -> tuple[list[Trade], list[BestBidOffer]]:
    trades = walk_trades(random.Random(8), ("BTC/USDT",), MIDNIGHT_NS, 360)
    return trades, quotes_for(trades)


@pytest.fixture
def url(database_url: str, market: tuple[list[Trade], list[BestBidOffer]]) -> str:
    migrate(database_url)
    trades, quotes = market

    async def store() -> None:
        writer = PostgresWriter(database_url, candles=CandleRollup(5.0))
        try:
            await writer.write(
                {
                    "instruments": [instrument_row(BTC, LATER).values],
                    "trades": [trade_row(t).values for t in trades],
                    "book_top": [bbo_row(q).values for q in quotes],
                },
                now=LATER,
            )
        finally:
            await writer.close()

    asyncio.run(store())
    return database_url


def backtest(url: str, strategy: str, config: dict) -> dg.ExecuteInProcessResult:
    (asset,) = [a for a in BACKTEST_ASSETS if a.key.path[-1] == asset_name(STRATEGIES[strategy])]
    return dg.materialize(
        [asset],
        run_config={"ops": {asset.op.name: {"config": config}}},
        resources={"postgres": PostgresResource(url=url)},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def test_a_backtest_replays_the_stored_data_as_the_chain_replays_the_events(
    url: str, market: tuple[list[Trade], list[BestBidOffer]]
) -> None:
    result = backtest(url, "ema-crossover", {"instruments": [BTC.key], "parameters": MOMENTUM, "start": START, "end": END})
    assert result.success
    (materialization,) = result.get_asset_materialization_events()
    metadata = materialization.materialization.metadata

    trades, quotes = market
    ranked = [(c.receive_ts_ns, 0, c) for c in candles_for(trades)] + [(q.receive_ts_ns, 1, q) for q in quotes]
    events = [e for _, _, e in sorted(ranked + [(t.receive_ts_ns, 2, t) for t in trades], key=lambda x: x[:2])]
    spec = StrategyDeploymentSpec(id="backtest-ema-crossover", strategy="ema-crossover", version="1.0.0",
                                  instruments=[BTC.key], account="backtest", parameters=MOMENTUM)  # fmt: skip
    budgets = deployment_budgets({"backtest": AccountAllocationSettings(capital="100000", deployments=[spec.id])})
    chain = ReplayChain(spec, {BTC.key: BTC}, Fraction(100_000), RiskLimits(live_risk_limits()), budgets, 10, 10, 60)
    record = chain.run(e for e in events if e.receive_ts_ns < MIDNIGHT_NS + 6 * 3600 * 10**9)
    expected = performance(record, 60)

    assert expected.fills >= 10 and expected.orders >= 10  # the momentum strategy traded
    assert metadata["fills"].value == expected.fills and metadata["orders"].value == expected.orders
    assert metadata["events"].value == record.events
    for name in ("total_return", "sharpe", "sortino", "max_drawdown", "turnover", "hit_rate"):
        assert metadata[name].value == pytest.approx(getattr(expected, name), abs=1e-12), name
    assert metadata["pnl"].value == f"{expected.pnl} USDT" and metadata["fees"].value == f"{expected.fees} USDT"
    assert expected.fees > 0 and expected.max_drawdown > 0

    encoded = metadata["equity_curve"].value.split("base64,")[1].rstrip(")")
    image = Image.open(io.BytesIO(base64.b64decode(encoded)))
    assert image.format == "PNG" and image.size[0] >= 800

    stored = stored_result(url, result.run_id)
    assert stored["strategy"] == "ema-crossover" and stored["version"] == "1.0.0" and stored["pnl"] == expected.pnl
    assert bytes(stored["equity_png"]) == base64.b64decode(encoded)
    (check,) = result.get_asset_check_evaluations()
    assert check.passed  # no thresholds given


def stored_result(url: str, run_id: str) -> asyncpg.Record:
    async def fetch() -> asyncpg.Record:
        connection = await asyncpg.connect(url)
        try:
            return await connection.fetchrow("SELECT * FROM backtest_results WHERE run_id = $1", run_id)
        finally:
            await connection.close()

    return asyncio.run(fetch())


def test_the_gate_check_fails_with_the_thresholds_missed(url: str) -> None:
    config = {"instruments": [BTC.key], "parameters": MOMENTUM, "start": START, "end": END}
    failing = backtest(url, "ema-crossover", {**config, "gate": {"min_sharpe": 1e9, "max_drawdown": 0.0}})
    (check,) = failing.get_asset_check_evaluations()
    assert failing.success and not check.passed
    failures = check.metadata["failures"].value
    assert "sharpe" in failures and "< min_sharpe 1e+09" in failures and "max_drawdown" in failures
    passing = backtest(url, "ema-crossover", {**config, "gate": {"max_drawdown": 1.0, "min_fills": 1}})
    assert passing.get_asset_check_evaluations()[0].passed
    misspelt = backtest(url, "ema-crossover", {**config, "gate": {"min_sharp": 1.0}})
    assert not misspelt.success  # a threshold that would never be checked is refused
    assert "min_sharp" in misspelt.get_step_failure_events()[0].step_failure_data.error.message


def test_the_market_maker_backtest_is_filled_as_a_maker_by_the_paper_venue(url: str) -> None:
    parameters = {"quote_size": "0.01", "max_inventory": "0.05", "half_spread_bps": "1", "requote_bps": "1"}
    result = backtest(
        url, "inventory-market-maker", {"instruments": [BTC.key], "parameters": parameters, "start": START, "end": END}
    )
    assert result.success
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["fills"].value > 0 and metadata["orders"].value > metadata["fills"].value / 2


def test_an_instrument_without_reference_data_fails_the_run_clearly(url: str) -> None:
    result = backtest(
        url, "ema-crossover", {"instruments": ["binance:XRP/USDT"], "parameters": MOMENTUM, "start": START, "end": END}
    )
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.error
    assert "no reference data stored for binance:XRP/USDT" in failure.message


def store_klines(url: str, closes: list[int], first_open: datetime) -> list[Candle]:
    """One-minute klines of BTC in ``exchange_candles`` (as the market-data assets backfill them),
    and the same as the events a replay of them gets: each received at its close."""
    rows, events = [], []
    for n, close in enumerate(closes):
        opened = first_open + timedelta(minutes=n)
        previous = closes[n - 1] if n else close
        high, low = max(previous, close) + 3, min(previous, close) - 3
        rows.append(("binance", "BTC/USDT", 60, opened, *(Decimal(v).scaleb(-2) for v in (previous, high, low, close)),
                     Decimal(5 + n % 7).scaleb(-3)))  # fmt: skip
        open_ns = int(opened.timestamp()) * 10**9
        events.append(Candle("binance", "BTC/USDT", open_ns + 60 * 10**9, open_ns + 60 * 10**9, 0, 60, open_ns,
                             previous, high, low, close, 5 + n % 7, 0, True, 2, 3))  # fmt: skip

    async def store() -> None:
        connection = await asyncpg.connect(url)
        try:
            days = (first_open.date(), (first_open + timedelta(minutes=len(closes))).date())
            await connection.execute("SELECT ensure_daily_partitions('exchange_candles', $1, $2)", *days)
            await connection.copy_records_to_table(
                "exchange_candles", records=rows,
                columns=["exchange", "symbol", "interval_s", "open_time", "open", "high", "low", "close", "volume"],
            )  # fmt: skip
        finally:
            await connection.close()

    asyncio.run(store())
    return events


def test_a_backtest_of_backfilled_klines_across_midnight_fills_at_bar_quotes(url: str) -> None:
    rng = random.Random(3)
    closes = [100_000]
    for _ in range(599):
        closes.append(closes[-1] + rng.randint(-40, 40))
    first_open = datetime(2026, 11, 21, 20, 0, tzinfo=UTC)  # 10 hours: 4 before midnight, 6 after
    events = store_klines(url, closes, first_open)
    config = {
        "instruments": [BTC.key], "parameters": MOMENTUM, "start": "2026-11-21T20:00:00+00:00",
        "end": "2026-11-22T06:00:00+00:00", "candle_source": "exchange", "bar_spread_bps": 3,
    }  # fmt: skip
    result = backtest(url, "ema-crossover", config)
    assert result.success
    metadata = result.get_asset_materialization_events()[0].materialization.metadata

    spec = StrategyDeploymentSpec(id="backtest-ema-crossover", strategy="ema-crossover", version="1.0.0",
                                  instruments=[BTC.key], account="backtest", parameters=MOMENTUM)  # fmt: skip
    budgets = deployment_budgets({"backtest": AccountAllocationSettings(capital="100000", deployments=[spec.id])})
    chain = ReplayChain(spec, {BTC.key: BTC}, Fraction(100_000), RiskLimits(live_risk_limits()), budgets, 10, 10, 60, 3)
    record = chain.run(events)
    expected = performance(record, 60)
    assert record.events == len(closes) == metadata["events"].value  # both days, every bar once
    assert expected.fills >= 10 and metadata["fills"].value == expected.fills
    assert metadata["pnl"].value == f"{expected.pnl} USDT"
    # a market order at a bar's close fills at its quote: 3 bps wide, rounded out to a tick
    by_close = {e.receive_ts_ns: e.close for e in events}
    for fill in record.fills:
        close = by_close[fill.exchange_ts_ns]
        half = max(-(-close * 3 // 20_000), 1)
        assert fill.price == (close + half if fill.side is Side.BUY else close - half)

    # the stream's table holds nothing for these days: read from there, the range has no data
    empty = backtest(url, "ema-crossover", {**config, "candle_source": "stream"})
    assert not empty.success
    assert "no stored market data" in empty.get_step_failure_events()[0].step_failure_data.error.message


def test_a_stored_price_finer_than_the_instrument_s_scale_is_refused_not_rounded(url: str) -> None:
    async def store() -> None:
        connection = await asyncpg.connect(url)
        try:
            await connection.execute(
                "UPDATE trades SET price = price + 0.001 WHERE ctid = (SELECT ctid FROM trades ORDER BY receive_ts_ns LIMIT 1)"
            )
        finally:
            await connection.close()

    asyncio.run(store())
    result = backtest(url, "ema-crossover", {"instruments": [BTC.key], "parameters": MOMENTUM, "start": START, "end": END})
    assert not result.success
    message = result.get_step_failure_events()[0].step_failure_data.error.message
    assert "binance:BTC/USDT: a stored trade has more decimals than the instrument's scales" in message


def test_the_reader_process_reads_each_day_and_stops_when_the_caller_stops(url: str) -> None:
    from platform_assets.backtests.day_reader import prefetched_events
    from platform_assets.backtests.stored_market_data import range_of

    start, end = range_of("2026-11-19T18:00:00+00:00", "2026-11-20T06:00:00+00:00")  # two UTC days
    days = prefetched_events(url, {BTC.key: BTC}, start, end)
    first = next(days)  # the evening before: nothing stored
    second = next(days)
    assert first == [] and len(second) > 360 and {type(e) for e in second} == {Trade, BestBidOffer, Candle}
    assert [e.receive_ts_ns for e in second] == sorted(e.receive_ts_ns for e in second)
    assert next(days, None) is None  # the range's end

    started = prefetched_events(url, {BTC.key: BTC}, *range_of("2026-11-20", "2026-11-22"))
    next(started)
    reader_pids = _reader_pids()
    assert len(reader_pids) == 1
    started.close()  # the caller stops after one day: the reader is stopped and waited for
    assert _reader_pids() == []

    with pytest.raises(OSError):  # the reader's error, raised in the caller as itself
        list(prefetched_events("postgresql://nobody@127.0.0.1:1/none", {BTC.key: BTC}, start, end))


def _reader_pids() -> list[int]:
    """This process's reader children (other test workers may run their own)."""
    import os
    from pathlib import Path

    found = []
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(status.read_text().rpartition(")")[2].split()[1])
            if parent == os.getpid() and b"platform_assets.backtests.day_reader" in (status.parent / "cmdline").read_bytes():
                found.append(int(status.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return found
