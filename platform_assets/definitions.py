"""The platform's Dagster definitions: read this file to see what the control plane does."""

from __future__ import annotations

import dagster as dg

from platform_assets.backtests.backtest_assets import BACKTEST_ASSETS
from platform_assets.indicators.indicator_assets import INDICATOR_ASSETS, daily_indicators, indicators_job
from platform_assets.jobs.platform_setup import platform_setup
from platform_assets.jobs.strategy_deployments import STRATEGY_DEPLOYMENT_JOBS
from platform_assets.jobs.stream_deployments import STREAM_DEPLOYMENT_JOBS
from platform_assets.market_data.candle_assets import (
    candles_job,
    daily_exchange_candles,
    exchange_candles,
    exchange_candles_fresh,
)
from platform_assets.market_data.gap_repair import stream_gap_repair
from platform_assets.market_data.trade_bars import daily_trade_bars, daily_trade_bars_schedule, trade_bars_job
from platform_assets.promotion.promotion_job import PROMOTION_JOBS
from platform_assets.resources.platform_servers import platform_resources
from platform_assets.streams.sensor import stream_checks, stream_health
from platform_assets.streams.topology import deployment_spec, table_specs, topic_specs

defs = dg.Definitions(
    assets=[
        *topic_specs(),
        *table_specs(),
        deployment_spec(),
        exchange_candles,
        daily_trade_bars,
        *INDICATOR_ASSETS,
        *BACKTEST_ASSETS,
    ],
    asset_checks=[stream_checks, exchange_candles_fresh],
    jobs=[
        platform_setup,
        *STREAM_DEPLOYMENT_JOBS,
        *STRATEGY_DEPLOYMENT_JOBS,
        candles_job,
        trade_bars_job,
        indicators_job,
        *PROMOTION_JOBS,
    ],
    schedules=[daily_exchange_candles, daily_trade_bars_schedule, daily_indicators],
    sensors=[stream_health, stream_gap_repair],
    resources=platform_resources(),
)
