"""One asset per strategy version (``backtests/ema_crossover_v1_0_0``, ...): a materialisation
replays stored market data through the strategy class, the allocator, the live risk limits and the
paper venue's fill model (``platform_streams.backtesting``) with the run's config, and records the
metrics as metadata, the equity and drawdown plot (PNG) shown in the UI, and a row in
``backtest_results``; its ``gate`` check holds the metrics against thresholds from the config."""

# No `from __future__ import annotations` here: Dagster resolves config and resource annotations when defined.
import base64
from typing import Any

import dagster as dg
import msgspec

from platform_assets.backtests.stored_backtest import BacktestOutcome, BacktestRequest, run_stored_backtest, store_outcome
from platform_assets.resources.platform_servers import PostgresResource
from platform_assets.streams.topology import table_key
from platform_streams.backtesting.gate import GateThresholds, gate_failures
from strategies.catalog import STRATEGIES
from strategies.strategy import Strategy

GROUP = "backtests"
GATE = "gate"


class BacktestRangeConfig(dg.Config):
    """The stored data a backtest replays, [``start``, ``end``) (ISO dates or times, UTC), with
    ``capital`` in the quote asset, the paper venue's fees and how often equity is sampled; its
    candles from the stream's table (``candle_source: stream``) or the exchanges' backfilled
    klines (``exchange``); where the data has no top of book, quotes ``bar_spread_bps`` wide
    around each bar's close."""

    start: str
    end: str
    capital: str = "100000"
    maker_fee_bps: int = 10
    taker_fee_bps: int = 10
    sample_interval_s: int = 60
    candle_source: str = "stream"
    bar_spread_bps: int = 2


class BacktestConfig(BacktestRangeConfig):
    """A backtest of ``instruments`` (``exchange:symbol``) with the strategy's ``parameters``, and
    the ``gate`` thresholds (``min_sharpe``, ``max_drawdown``, ``min_total_return``,
    ``min_sortino``, ``min_hit_rate``, ``min_fills``, ``max_rejections``) its check holds it to."""

    instruments: list[str]
    parameters: dict[str, Any] = {}
    timer_interval_s: float = 0.0
    gate: dict[str, float] = {}


def asset_name(kind: type[Strategy]) -> str:
    """``ema_crossover_v1_0_0``: the strategy and its version, as an asset name."""
    return f"{kind.name}_v{kind.version}".replace("-", "_").replace(".", "_")


def outcome_metadata(outcome: BacktestOutcome) -> dict[str, Any]:
    """The metrics, the counts and the plot of a backtest, as asset metadata."""
    found, record = outcome.performance, outcome.record
    image = base64.b64encode(outcome.png).decode()
    return {
        "total_return": found.total_return,
        "sharpe": found.sharpe,
        "sortino": found.sortino,
        "max_drawdown": found.max_drawdown,
        "turnover": found.turnover,
        "hit_rate": found.hit_rate,
        "pnl": dg.MetadataValue.text(f"{found.pnl} {record.quote}"),
        "fees": dg.MetadataValue.text(f"{found.fees} {record.quote}"),
        "fills": found.fills,
        "orders": found.orders,
        "rejections": found.rejections,
        "rejections_by_rule": dg.MetadataValue.json(record.rejections),
        "events": record.events,
        "version": outcome.version,
        "parameters": dg.MetadataValue.json(outcome.request.parameters),
        "range": f"{outcome.request.start} → {outcome.request.end}",
        "equity_curve": dg.MetadataValue.md(f"![equity and drawdown](data:image/png;base64,{image})"),
    }


def backtest_asset(kind: type[Strategy]) -> dg.AssetsDefinition:
    """The backtest asset of ``kind`` at its current version."""
    name = asset_name(kind)

    @dg.asset(
        name=name,
        key_prefix=[GROUP],
        group_name=GROUP,
        deps=[table_key("trades"), table_key("book_top"), table_key("candles"), table_key("instruments")],
        kinds={"python", "postgres"},
        code_version=kind.version,
        check_specs=[dg.AssetCheckSpec(GATE, asset=dg.AssetKey([GROUP, name]), description="The metrics meet the run's gate.")],
        description=f"Backtest of `{kind.name}` {kind.version}: stored trades, tops of book and one-minute candles "
        "replayed through the strategy, its capital budget, the live risk limits and the paper venue's fill model.",
    )
    def backtest(context: dg.AssetExecutionContext, config: BacktestConfig, postgres: PostgresResource) -> dg.MaterializeResult:
        try:
            thresholds = msgspec.convert(config.gate, GateThresholds, strict=False)
            request = BacktestRequest(strategy=kind.name, **{k: v for k, v in config.model_dump().items() if k != "gate"})
            outcome = run_stored_backtest(postgres.url, request)
        except (LookupError, ValueError, msgspec.ValidationError) as error:
            raise dg.Failure(str(error), allow_retries=False) from None
        store_outcome(postgres.url, context.run.run_id, outcome)
        failures = gate_failures(outcome.performance, thresholds)
        context.log.info(f"{name}: {outcome.record.events} events, {outcome.performance}")
        return dg.MaterializeResult(
            metadata=outcome_metadata(outcome),
            check_results=[
                dg.AssetCheckResult(
                    check_name=GATE,
                    passed=not failures,
                    severity=dg.AssetCheckSeverity.ERROR,
                    metadata={"thresholds": dg.MetadataValue.json(config.gate), "failures": "; ".join(failures) or "-"},
                )
            ],
        )

    return backtest


BACKTEST_ASSETS = [backtest_asset(kind) for kind in STRATEGIES.values()]
