"""Indicator assets recompute, from the candles the sinks stored in a real PostgreSQL, exactly the
values the stream publishes from the same trades (one definition: the stream's own kernels), per
day × exchange partition with a warm-up before the day, idempotently; and a changed definition
shows its asset as stale while the others stay fresh."""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import random
import sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg
import dagster as dg
import msgspec
import pytest
from dagster._core.definitions.data_version import CachingStaleStatusResolver, StaleStatus
from dagster._core.loader import LoadingContextForTest

from platform_assets.definitions import defs
from platform_assets.indicators.catalogue import code_version, stream_indicator_specs, warmup_candles
from platform_assets.indicators.indicator_assets import INDICATOR_ASSETS, daily_indicators, indicator_asset
from platform_assets.resources.platform_servers import PostgresResource
from platform_streams.database.migrate import migrate
from platform_streams.processing.candles import CandleFolder
from platform_streams.processing.indicators import averages
from platform_streams.processing.indicators.registry import IndicatorSpec, ResolvedSpec, resolve
from platform_streams.processing.processor import Processor
from platform_streams.schemas import IndicatorValue, Side, Trade
from platform_streams.schemas.fixed_point import to_decimal
from platform_streams.sinks.candle_rollup import CandleRollup
from platform_streams.sinks.postgres_writer import PostgresWriter
from platform_streams.sinks.tables import trade_row
from tests.processing.test_sink_agreement import recorded_trades

DAY = date(2026, 11, 20)
MIDNIGHT_NS = int(datetime(2026, 11, 20, tzinfo=UTC).timestamp()) * 10**9
LATER = datetime(2030, 1, 1, tzinfo=UTC)
ValueKey = tuple[str, str, str, str, datetime]


def walk_trades(rng: random.Random, symbols: tuple[str, ...], start_ns: int, minutes: int) -> list[Trade]:
    """A random walk per symbol, 0-4 trades a minute (some minutes without any), on the binance venue."""
    trades: list[Trade] = []
    for symbol in symbols:
        price = 10_000
        for minute in range(minutes):
            for n in range(rng.choice((0, 1, 2, 3, 4, 4))):
                price = max(100, price + rng.randint(-40, 40))
                ts = start_ns + minute * 60 * 10**9 + rng.randrange(60 * 10**9 // 1000) * 1000
                trades.append(
                    Trade(
                        "binance",
                        symbol,
                        ts,
                        ts + 10**6,
                        0,
                        f"{symbol}-{minute}-{n}",
                        rng.choice((Side.BUY, Side.SELL)),
                        price,
                        rng.randint(1, 5_000),
                        2,
                        3,
                    )  # fmt: skip
                )
    return sorted(trades, key=lambda t: (t.exchange_ts_ns, t.trade_id))


def stream_values(trades: list[Trade], specs: list[ResolvedSpec]) -> dict[ValueKey, Decimal]:
    """What the processing stage publishes on md.indicator for these trades (read from the start)."""
    processor = Processor(CandleFolder([60], 250_000_000, publish_first=True), specs)
    events = [e for t in trades for e in processor.on_trade(t)] + processor.on_clock(2**62)
    return {as_key(v): to_decimal(v.value, v.value_scale) for v in events if isinstance(v, IndicatorValue)}


def as_key(v: IndicatorValue) -> ValueKey:
    return (v.symbol, v.indicator, v.parameters, v.exchange, datetime.fromtimestamp(v.exchange_ts_ns // 10**9, UTC))


def store_through_sink(url: str, trades: list[Trade]) -> None:
    """The trades as the PostgreSQL sink stores them (its candles folded as it inserts), in batches."""

    async def run() -> None:
        writer = PostgresWriter(url, candles=CandleRollup(5.0))
        try:
            for start in range(0, len(trades), 700):
                await writer.write({"trades": [trade_row(t).values for t in trades[start : start + 700]]}, now=LATER)
        finally:
            await writer.close()

    asyncio.run(run())


def stored_values(url: str) -> dict[ValueKey, Decimal]:
    async def run() -> list[asyncpg.Record]:
        connection = await asyncpg.connect(url)
        try:
            return await connection.fetch("SELECT symbol, indicator, parameters, exchange, ts, value FROM indicator_values")
        finally:
            await connection.close()

    return {tuple(r.values())[:5]: r["value"] for r in asyncio.run(run())}  # type: ignore[misc]


def materialise(
    assets: list[dg.AssetsDefinition], url: str, day: date, instance: dg.DagsterInstance
) -> dg.ExecuteInProcessResult:
    key = dg.MultiPartitionKey({"date": day.isoformat(), "exchange": "binance"})
    result = dg.materialize(assets, partition_key=key, resources={"postgres": PostgresResource(url=url)}, instance=instance)
    assert result.success
    return result


@pytest.fixture
def url(database_url: str) -> str:
    migrate(database_url)
    return database_url


def test_the_assets_recompute_the_streams_values_from_the_stored_candles(url: str) -> None:
    specs = [resolve(spec) for spec in stream_indicator_specs()]
    assert {spec.kind.name for spec in specs} == {"ema", "rsi", "atr", "bollinger", "vwap", "realised_volatility"}
    assert max(warmup_candles(spec) for spec in specs) == 30 * 20 + 1  # EMA 20's: recursive
    # 13:00 the day before to 03:00 (some minutes without trades): the first partition has no
    # earlier candles, the second warms up on the day before's last 601 candles at most
    trades = walk_trades(random.Random(5), ("BTC/USDT", "ETH/USDT"), MIDNIGHT_NS - 660 * 60 * 10**9, 840)
    stream = stream_values(trades, specs)
    store_through_sink(url, trades)
    instance = dg.DagsterInstance.ephemeral()
    first = materialise(INDICATOR_ASSETS, url, DAY - timedelta(days=1), instance)
    second = materialise(INDICATOR_ASSETS, url, DAY, instance)
    stored = stored_values(url)
    midnight = datetime(2026, 11, 20, tzinfo=UTC)

    before = {k: v for k, v in stream.items() if k[4] <= midnight}
    assert len(before) > 1_000 and {k: stored[k] for k in before} == before  # from the start: equal, bit for bit
    after = {k: v for k, v in stream.items() if k[4] > midnight}
    assert set(stored) == set(before) | set(after)  # every value the stream published, and no other
    # after the warm-up, window indicators exactly; recursive ones (EMA, RSI, ATR) converged to the last digit
    assert len(after) > 1_000 and {k: stored[k] for k in after} == after

    (ema,) = [m for m in second.get_asset_materialization_events() if m.asset_key.path[-1] == "ema_period20_60s"]
    metadata = ema.materialization.metadata
    assert metadata["values"].value == sum(1 for k in after if k[1] == "ema") and metadata["instruments"].value == 2
    assert metadata["code_version"].value == code_version(resolve(IndicatorSpec("ema", {"period": 20}, 60)))
    assert "| BTC/USDT | ema |" in metadata["last_values"].value
    assert first.success

    materialise(INDICATOR_ASSETS, url, DAY, instance)  # recomputed: replaced, not added
    assert stored_values(url) == stored


def test_recorded_binance_trades_give_the_streams_values(url: str) -> None:
    recorded = sorted(recorded_trades("binance/2021-04-05_cryptofeed_spot_10sym.jsonl"), key=lambda t: t.exchange_ts_ns)
    days = (DAY - datetime.fromtimestamp(recorded[0].exchange_ts_ns / 1e9, UTC).date()).days  # into the partitions' range
    shift = days * 86_400 * 10**9
    trades = [
        msgspec.structs.replace(t, exchange_ts_ns=t.exchange_ts_ns + shift, receive_ts_ns=t.receive_ts_ns + shift)
        for t in recorded
    ]
    spec = IndicatorSpec("sma", {"period": 2}, 60)
    stream = stream_values(trades, [resolve(spec)])
    store_through_sink(url, trades)
    day = datetime.fromtimestamp(trades[0].exchange_ts_ns / 1e9, UTC).date()
    assert day == datetime.fromtimestamp(trades[-1].exchange_ts_ns / 1e9, UTC).date()
    materialise([indicator_asset(spec)], url, day, dg.DagsterInstance.ephemeral())
    assert len(stream) >= 2 and stored_values(url) == stream


def edited_kernel(tmp_path: Path) -> type:
    """EMA's kernel with one line of its update changed, loaded from its own file."""
    source = inspect.getsource(averages).replace("self._value += self._alpha * (close - self._value)", "self._value = close")
    assert source != inspect.getsource(averages)
    path = tmp_path / "edited_averages.py"
    path.write_text(source)
    loader = importlib.util.spec_from_file_location("edited_averages", path)
    assert loader and loader.loader
    module = importlib.util.module_from_spec(loader)
    sys.modules["edited_averages"] = module
    loader.loader.exec_module(module)
    return module.ExponentialMovingAverage


def test_a_changed_indicator_definition_shows_its_asset_as_stale(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ema, rsi = IndicatorSpec("ema", {"period": 20}, 60), IndicatorSpec("rsi", {"period": 14}, 60)
    edited = edited_kernel(tmp_path)
    original = resolve(ema)
    changed = ResolvedSpec(edited, original.parameters, original.parameters_text, 60, original.instruments)
    assert code_version(changed) != code_version(original)  # the digest follows the kernel's source
    assert code_version(resolve(ema)) == code_version(original)  # and is stable

    store_through_sink(url, walk_trades(random.Random(1), ("BTC/USDT",), MIDNIGHT_NS, 60))
    instance = dg.DagsterInstance.ephemeral()
    before = [indicator_asset(ema), indicator_asset(rsi)]
    materialise(before, url, DAY, instance)
    assert statuses(before, instance, url) == {"ema_period20_60s": StaleStatus.FRESH, "rsi_period14_60s": StaleStatus.FRESH}

    monkeypatch.setattr(
        "platform_assets.indicators.indicator_assets.resolve",
        lambda spec: changed if spec.indicator == "ema" else resolve(spec),
    )
    after = [indicator_asset(ema), indicator_asset(rsi)]  # the definitions as the edited code loads them
    assert statuses(after, instance, url) == {"ema_period20_60s": StaleStatus.STALE, "rsi_period14_60s": StaleStatus.FRESH}
    materialise(after, url, DAY, instance)  # recomputing it makes it fresh again
    assert statuses(after, instance, url)["ema_period20_60s"] == StaleStatus.FRESH


def statuses(assets: list[dg.AssetsDefinition], instance: dg.DagsterInstance, url: str) -> dict[str, StaleStatus]:
    definitions = dg.Definitions(assets=assets, resources={"postgres": PostgresResource(url=url)})
    graph = definitions.get_repository_def().asset_graph
    resolver = CachingStaleStatusResolver(instance, graph, LoadingContextForTest(instance))
    key = dg.MultiPartitionKey({"date": DAY.isoformat(), "exchange": "binance"})
    return {asset.key.path[-1]: resolver.get_status(asset.key, key) for asset in assets}


def test_the_daily_schedule_recomputes_yesterday_for_every_exchange() -> None:
    context = dg.build_schedule_context(
        scheduled_execution_time=datetime(2026, 12, 7, 0, 45, tzinfo=UTC), repository_def=defs.get_repository_def()
    )
    requests = daily_indicators.evaluate_tick(context).run_requests or []
    assert sorted(str(r.partition_key) for r in requests) == ["2026-12-06|binance", "2026-12-06|kraken", "2026-12-06|okx"]
    assert len({r.run_key for r in requests}) == 3
