"""The strategy registry in a real PostgreSQL (one live version per deployment, replaced and rolled
back in one transaction, every step kept), the rollback job's refusal without an earlier version,
and the paper-against-backtest drift gate."""

from __future__ import annotations

from decimal import Decimal

import asyncpg
import dagster as dg
import pytest

from platform_assets.promotion.paper_trial import DriftThresholds, PaperFigures, drift_failures
from platform_assets.promotion.promotion_job import rollback_strategy
from platform_assets.promotion.strategy_registry import StrategyRegistry
from platform_assets.resources.platform_servers import KafkaResource, PostgresResource
from platform_streams.backtesting.performance import Performance
from platform_streams.database.migrate import migrate


def entry(registry: StrategyRegistry, half_spread: str, timer_interval_s: float = 0.0) -> int:
    return registry.register(
        deployment="maker", strategy="inventory-market-maker", version="1.0.0",
        parameters={"quote_size": "0.05", "half_spread_bps": half_spread}, instruments=["binance:SOL/USDT"],
        account="sim", host="strategy-host", run_id=f"run-{half_spread}", requested_by="ops",
        timer_interval_s=timer_interval_s,
    )  # fmt: skip


def test_a_deployment_has_one_live_version_replaced_and_rolled_back_at_once(database_url: str) -> None:
    migrate(database_url)
    registry = StrategyRegistry(database_url)
    a = entry(registry, "5", timer_interval_s=2.5)
    assert registry.make_live(a, 1, "ops") is None and registry.live("maker").id == a  # type: ignore[union-attr]
    b = entry(registry, "8")
    registry.step(b, "backtest", "passed", "ops", sharpe=1.5)
    replaced = registry.make_live(b, 2, "ops")
    assert replaced is not None and replaced.id == a
    live = registry.live("maker")
    assert live is not None and (live.id, live.live_epoch, live.parameters["half_spread_bps"]) == (b, 2, "8")
    previous = registry.previous("maker")
    assert previous is not None and (previous.id, previous.timer_interval_s) == (a, 2.5)  # as it ran, for a rollback
    assert live.timer_interval_s == 0.0
    registry.roll_back(b, a, 3, "worse fills")
    states = {e.id: (e.state, e.live_epoch, e.reason) for e in registry.entries("maker")}
    assert states == {a: ("live", 3, ""), b: ("rolled_back", 2, "worse fills")}
    assert registry.steps(b) == [("backtest", "passed", {"sharpe": 1.5})]
    with pytest.raises(asyncpg.UniqueViolationError):
        registry.update(b, "live")  # a second live version of the deployment is refused
    with pytest.raises(ValueError, match="unknown registry state"):
        registry.update(b, "promoted")


def test_rollback_without_an_earlier_version_fails_with_the_reason(database_url: str) -> None:
    migrate(database_url)
    registry = StrategyRegistry(database_url)
    registry.make_live(entry(registry, "5"), 1, "ops")
    result = rollback_strategy.execute_in_process(
        run_config={"ops": {"roll_back": {"config": {"deployment": "maker"}}}},
        resources={"kafka": KafkaResource(bootstrap_servers="127.0.0.1:1"), "postgres": PostgresResource(url=database_url)},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    assert not result.success
    message = result.get_step_failure_events()[0].step_failure_data.error.message
    assert "maker has no earlier version in the strategy registry" in message
    assert registry.live("maker").live_epoch == 1  # type: ignore[union-attr]


def replayed(orders: int, fills: int, pnl: str) -> Performance:
    return Performance(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, Decimal(0), Decimal(pnl), fills, orders, 0)


def test_the_drift_gate_holds_paper_to_the_backtest_of_its_window() -> None:
    paper = PaperFigures(orders=14, fills=2, fill_rate=2 / 14, pnl=Decimal("-0.010005"), fees=Decimal("0.015005"))
    loose = DriftThresholds(max_fill_rate_drift=0.2, max_pnl_drift=0.001)
    assert drift_failures(paper, replayed(18, 4, "-0.0165145"), loose, Decimal(100)) == []
    missed = drift_failures(paper, replayed(10, 9, "0.5"), loose, Decimal(100))
    assert missed == [
        "fill rate: paper 0.143 vs backtest 0.900 differ by more than max_fill_rate_drift 0.2",
        "PnL: paper -0.010005 vs backtest 0.5 differ by more than 0.100 (max_pnl_drift)",
    ]
    quiet = drift_failures(
        PaperFigures(0, 0, 0.0, Decimal(0), Decimal(0)), replayed(0, 0, "0"), DriftThresholds(min_paper_orders=1), Decimal(1)
    )
    assert quiet == ["paper orders 0 < min_paper_orders 1"]
