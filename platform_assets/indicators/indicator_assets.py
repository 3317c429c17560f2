"""One asset per indicator the streams run (``indicators/ema_period20_60s``, ...), partitioned like
the candles (UTC day × exchange, instruments inside), computed from the stored one-minute candles
with polars by the stream's own kernels (``compute_indicators``) and written to ``indicator_values``.
Each asset's code version is its definition's digest: a changed indicator shows as stale in the UI
and a materialisation (or a backfill of its partitions) recomputes it."""

# No `from __future__ import annotations` here: Dagster resolves config and resource annotations when defined.
import asyncio
import time

import dagster as dg
import polars as pl

from platform_assets.indicators.catalogue import (
    STORED_INTERVAL_S,
    asset_name,
    code_version,
    stream_indicator_specs,
    warmup_candles,
)
from platform_assets.indicators.stored_candles import day_values, read_day_candles, replace_day_values
from platform_assets.market_data.candle_assets import CANDLE_PARTITIONS, day_and_exchange, yesterday_runs
from platform_assets.resources.platform_servers import PostgresResource
from platform_assets.streams.topology import table_key
from platform_streams.processing.batch import compute_indicators
from platform_streams.processing.indicators.registry import IndicatorSpec, ResolvedSpec, resolve
from platform_streams.schemas.fixed_point import to_decimal

GROUP = "indicators"
PREVIEW_INSTRUMENTS = 12


class IndicatorRecomputeConfig(dg.Config):
    """Which instruments a partition recomputes: ``symbols`` (unified, ``BTC/USDT``), default every
    instrument with stored candles that day. Only those are replaced in the partition."""

    symbols: list[str] = []


def _preview(values: pl.DataFrame) -> str:
    last = values.sort("exchange_ts_ns").group_by("symbol", "indicator", maintain_order=True).last().sort("symbol")
    rows = ["| symbol | output | last value | at (UTC) |", "|---|---|---|---|"]
    symbols = last.get_column("symbol").unique(maintain_order=True).head(PREVIEW_INSTRUMENTS).to_list()
    for symbol, indicator, ts, value, scale in (
        last.filter(pl.col("symbol").is_in(symbols))
        .select("symbol", "indicator", "exchange_ts_ns", "value", "value_scale")
        .iter_rows()
    ):
        rows.append(
            f"| {symbol} | {indicator} | {to_decimal(value, scale)} | {time.strftime('%H:%M', time.gmtime(ts // 10**9))} |"
        )
    return "\n".join(rows)


def indicator_asset(spec: IndicatorSpec) -> dg.AssetsDefinition:
    """The asset recomputing ``spec`` (a candle indicator at the stored interval)."""
    resolved: ResolvedSpec = resolve(spec)
    if resolved.interval_s != STORED_INTERVAL_S:
        raise ValueError(f"{spec.indicator}: only {STORED_INTERVAL_S} s candles are stored, not {resolved.interval_s} s")
    name, version, warmup = asset_name(resolved), code_version(resolved), warmup_candles(resolved)
    outputs = resolved.kind.output_names()

    @dg.asset(
        name=name,
        key_prefix=[GROUP],
        partitions_def=CANDLE_PARTITIONS,
        deps=[table_key("candles")],
        group_name=GROUP,
        kinds={"polars", "postgres"},
        code_version=version,
        description=f"`{resolved.kind.name}` ({resolved.parameters_text or 'no parameters'}) on {resolved.interval_s} s "
        f"candles, recomputed per UTC day and exchange from the stored candles by the stream's own kernel, "
        f"warmed up on up to {warmup} candles before the day; outputs {', '.join(outputs)} in `indicator_values`. "
        f"Code version {version} is the digest of its definition: editing it stales this asset.",
    )
    def recompute(
        context: dg.AssetExecutionContext, config: IndicatorRecomputeConfig, postgres: PostgresResource
    ) -> dg.MaterializeResult:
        day, exchange = day_and_exchange(context)
        started = time.monotonic()
        symbols = config.symbols or None
        candles = asyncio.run(read_day_candles(postgres.url, exchange, day, resolved.interval_s, warmup, symbols))
        values = day_values(compute_indicators(candles, [resolved]), day)
        written = asyncio.run(
            replace_day_values(
                postgres.url, exchange, day, resolved.interval_s, outputs, resolved.parameters_text, values, version, symbols
            )
        )
        with_candles = candles.get_column("symbol").n_unique()
        with_values = values.get_column("symbol").n_unique()
        context.log.info(f"{name} {exchange} {day}: {len(candles)} candles of {with_candles} instruments → {written} values")
        return dg.MaterializeResult(
            metadata={
                "values": written,
                "candles_read": len(candles),
                "instruments": with_values,
                "instruments_warming_up": with_candles - with_values,
                "code_version": version,
                "seconds": round(time.monotonic() - started, 2),
                "last_values": dg.MetadataValue.md(_preview(values)) if written else dg.MetadataValue.text("no values"),
            }
        )

    return recompute


INDICATOR_ASSETS = [indicator_asset(spec) for spec in stream_indicator_specs()]
indicators_job = dg.define_asset_job("indicators_job", selection=dg.AssetSelection.groups(GROUP))


@dg.schedule(
    cron_schedule="45 0 * * *",
    job=indicators_job,
    execution_timezone="UTC",
    description="Yesterday's indicators of every exchange from the stored candles, once the day's candles closed.",
)
def daily_indicators(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest]:
    return yesterday_runs(context)
