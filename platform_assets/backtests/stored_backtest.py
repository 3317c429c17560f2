"""A backtest over stored market data, end to end: the instruments' reference data and the market
events from PostgreSQL, the trading chain's replay with the live risk limits, the performance and
the plot, and the row in ``backtest_results``. The backtest assets and the promotion pipeline
both run backtests through here."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
from quicktions import Fraction

from platform_assets.backtests.day_reader import prefetched_events
from platform_assets.backtests.stored_market_data import candle_table, range_of
from platform_streams.backtesting.equity_plot import equity_png
from platform_streams.backtesting.performance import Performance, performance
from platform_streams.backtesting.replay_chain import ReplayChain, ReplayRecord, relaxed_gc
from platform_streams.embedded.paths import REPOSITORY_ROOT
from platform_streams.reference.stored_instruments import fetch_instruments
from platform_streams.risk.budgets import AccountAllocationSettings, deployment_budgets
from platform_streams.risk.limits import RiskLimits, RiskLimitsSettings
from platform_streams.schemas import Instrument
from platform_streams.strategy_host.strategy_deployment import StrategyDeploymentSpec
from platform_streams.supervisor.spec import load_spec
from strategies.catalog import strategy_class

TRADING_DEPLOYMENT = REPOSITORY_ROOT / "deployments" / "trading.yaml"


class BacktestRequest(msgspec.Struct, frozen=True, kw_only=True):
    """What to backtest: a strategy (by catalog name) with parameters on instruments over
    [start, end) with ``capital`` of the quote asset and the paper venue's fees; candles from the
    stream's table or the exchanges' backfilled klines (``candle_source``), and where the data has
    no top of book, bar quotes ``bar_spread_bps`` wide."""

    strategy: str
    parameters: dict[str, Any]
    instruments: list[str]
    start: str
    end: str
    capital: str = "100000"
    account: str = "backtest"
    maker_fee_bps: int = 10
    taker_fee_bps: int = 10
    sample_interval_s: int = 60
    timer_interval_s: float = 0.0
    candle_source: str = "stream"
    bar_spread_bps: int = 2


class BacktestOutcome(msgspec.Struct, frozen=True):
    request: BacktestRequest
    version: str
    record: ReplayRecord
    performance: Performance
    png: bytes


def live_risk_limits(deployment: Path = TRADING_DEPLOYMENT) -> RiskLimitsSettings:
    """The limits the risk daemon of ``deployment`` applies live: a backtest is judged by the same rules."""
    for daemon in load_spec(deployment).daemons:
        if daemon.kind == "risk":
            return msgspec.convert(daemon.config.get("limits", {}), RiskLimitsSettings)
    return RiskLimitsSettings()


async def _reference(connection: asyncpg.Connection, instruments: list[str]) -> dict[str, Instrument]:
    stored = {s.instrument.key: s.instrument for s in await fetch_instruments(connection, None, False)}
    missing = [key for key in instruments if key not in stored]
    if missing:
        raise LookupError(f"no reference data stored for {', '.join(missing)} (the instruments table has {len(stored)})")
    return {key: stored[key] for key in instruments}


def run_stored_backtest(
    database_url: str, request: BacktestRequest, limits: RiskLimitsSettings | None = None, deployment_id: str = ""
) -> BacktestOutcome:
    """Replay the stored market data of ``request`` through the trading chain and measure it."""
    start, end = range_of(request.start, request.end)
    kind = strategy_class(request.strategy)
    spec = StrategyDeploymentSpec(
        id=deployment_id or f"backtest-{kind.name}",
        strategy=request.strategy,
        version=kind.version,
        instruments=request.instruments,
        account=request.account,
        parameters=request.parameters,
        timer_interval_s=request.timer_interval_s,
    )

    candle_table(request.candle_source)  # refused here, before any reading
    capital = Fraction(request.capital)
    budgets = deployment_budgets({request.account: AccountAllocationSettings(capital=request.capital, deployments=[spec.id])})
    risk_limits = RiskLimits(limits or live_risk_limits())

    async def load() -> dict[str, Instrument]:
        connection = await asyncpg.connect(database_url)
        try:
            return await _reference(connection, request.instruments)
        finally:
            await connection.close()

    reference = asyncio.run(load())
    chain = ReplayChain(
        spec, reference, capital, risk_limits, budgets, request.maker_fee_bps, request.taker_fee_bps,
        request.sample_interval_s, request.bar_spread_bps,
    )  # fmt: skip
    with relaxed_gc():
        for day in prefetched_events(database_url, reference, start, end, request.candle_source):
            for event in day:
                chain.on_event(event)
        record = chain.finish()
    if not record.events:
        raise LookupError(f"no stored market data for {', '.join(request.instruments)} in [{start}, {end})")
    found = performance(record, request.sample_interval_s)
    title = f"{kind.name} {kind.version} on {', '.join(request.instruments)}"
    return BacktestOutcome(request, kind.version, record, found, equity_png(record.samples, title, record.quote))


def store_outcome(database_url: str, run_id: str, outcome: BacktestOutcome) -> None:
    """The outcome's row in ``backtest_results`` (a run stored twice keeps its latest)."""
    request, found = outcome.request, outcome.performance
    start, end = range_of(request.start, request.end)
    metrics = {k: v for k, v in msgspec.structs.asdict(found).items() if k not in ("fees", "pnl")}

    async def store() -> None:
        connection = await asyncpg.connect(database_url)
        try:
            await connection.execute(
                "INSERT INTO backtest_results (run_id, strategy, version, parameters, instruments, range_start, range_end,"
                " capital, maker_fee_bps, taker_fee_bps, metrics, pnl, fees, equity_png)"
                " VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8::numeric, $9, $10, $11::jsonb, $12, $13, $14)"
                " ON CONFLICT (run_id) DO UPDATE SET metrics = EXCLUDED.metrics, pnl = EXCLUDED.pnl, fees = EXCLUDED.fees,"
                " equity_png = EXCLUDED.equity_png, computed_at = now()",
                run_id, request.strategy, outcome.version, json.dumps(request.parameters), request.instruments, start, end,
                request.capital, request.maker_fee_bps, request.taker_fee_bps, json.dumps(metrics), found.pnl, found.fees,
                outcome.png,
            )  # fmt: skip
        finally:
            await connection.close()

    asyncio.run(store())
