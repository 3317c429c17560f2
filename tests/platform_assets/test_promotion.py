"""The promotion pipeline end to end on the whole trading path (simulator → ingestion → normalisers →
sinks and processing → strategy host → risk → execution, paper and live): a market maker is promoted
twice with passing gates — backtest over the stored data, paper trial on the host, paper against a
backtest of its window, hot deploy live — then rolled back to the first version, and a third
promotion stops at a failing gate with the reason; every step is in the strategy registry."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from platform_assets.backtests.backtest_assets import GATE
from platform_assets.jobs.strategy_deployments import deploy_strategy, stop_strategy
from platform_assets.promotion.paper_trial import stored_until
from platform_assets.promotion.promotion_job import promote_strategy, rollback_strategy
from platform_assets.promotion.strategy_registry import StrategyRegistry
from platform_assets.resources.platform_servers import KafkaResource, PostgresResource
from platform_streams.strategy_host import strategy_control
from platform_streams.strategy_host.deployment_control import spec_of
from tests.market_data.pipeline_harness import MarketDataPipeline
from tests.sinks.sink_harness import fetch
from tests.trading.trading_harness import RealTimeMarket, default_topic, supervised_servers, trading_daemons

DEPLOYMENT = "promoted-maker"
INSTRUMENT = "binance:SOL/USDT"  # active; no shipped deployment trades it (price ~150, lot 0.001, min notional 5)


def quick_snapshots(urls: dict[str, Any], budget_socket: Path) -> list[dict[str, Any]]:
    """The trading deployment's daemons, the strategy host snapshotting every second (a version a
    host starts is confirmed by its snapshot)."""
    daemons = trading_daemons(urls, budget_socket)
    for daemon in daemons:
        if daemon["kind"] == "strategy-host":
            daemon["config"]["snapshot_interval_s"] = 1
    return daemons


def run_in_background(pipeline: MarketDataPipeline, job: dg.JobDefinition, config: dict, resources: dict,
                      instance: dg.DagsterInstance, timeout_s: float) -> dg.ExecuteInProcessResult:  # fmt: skip
    """Run ``job`` while this thread keeps the market moving (the simulator runs on a manual clock)."""
    result: list[dg.ExecuteInProcessResult] = []
    thread = threading.Thread(
        target=lambda: result.append(
            job.execute_in_process(run_config=config, resources=resources, instance=instance, raise_on_error=False)
        ),
        daemon=True,
    )
    thread.start()
    pipeline.wait_until(lambda: not thread.is_alive(), timeout_s, f"the {job.name} run to end")
    return result[0]


def promotion(instrument: str, parameters: dict, gate: dict, timer_interval_s: float = 0.0) -> dict:
    now = datetime.now(UTC)
    return {
        "ops": {
            "register": {
                "config": {
                    "strategy": "inventory-market-maker",
                    "version": "1.0.0",
                    "parameters": parameters,
                    "timer_interval_s": timer_interval_s,
                    "instruments": [instrument],
                    "deployment": DEPLOYMENT,
                    "account": "sim",
                    "host": "strategy-host",
                    "backtest": {
                        "start": (now - timedelta(hours=1)).isoformat(),
                        "end": (now + timedelta(hours=1)).isoformat(),
                        "capital": "100000",
                        "sample_interval_s": 1,
                    },
                    "gate": gate,
                    "paper_seconds": 5,
                    "confirm_timeout_s": 90,
                    "settle_timeout_s": 90,
                    "drift": {"max_fill_rate_drift": 1.0, "max_pnl_drift": 0.01},
                    "operator": "test-operator",
                }  # fmt: skip
            }
        }
    }


@pytest.mark.e2e
@pytest.mark.timeout(1200)
def test_promotion_to_live_rollback_and_a_failing_gate(tmp_path: Path) -> None:
    with supervised_servers(tmp_path / "servers") as (_stack, connections, services):
        pipeline = RealTimeMarket(
            connections.kafka_bootstrap_servers, connections.database_url, tmp_path, default_topic, instruments=20,
            rate=600, services=services, extra_daemons=quick_snapshots,
        )  # fmt: skip
        with pipeline:
            url, servers = pipeline.database_url, pipeline.bootstrap
            pipeline.wait_books_live()
            listed = {i.symbol for i in pipeline.instruments_by_exchange_symbol()["binance"].values()}
            assert INSTRUMENT.partition(":")[2] in listed
            instrument = INSTRUMENT
            pipeline.wait_until(lambda: stored_until(url, [instrument]) is not None, 240, f"stored tops of book of {instrument}")
            pipeline.run_market(8)  # some history for the backtest
            resources = {"kafka": KafkaResource(bootstrap_servers=servers), "postgres": PostgresResource(url=url)}
            instance = dg.DagsterInstance.ephemeral()
            registry = StrategyRegistry(url)
            first = {"quote_size": "0.05", "max_inventory": "0.25", "half_spread_bps": "5", "requote_bps": "2"}
            second = {**first, "half_spread_bps": "8"}

            # 1. a passing promotion starts the deployment live
            result = run_in_background(pipeline, promote_strategy, promotion(instrument, first, {"max_drawdown": 0.5}, 2.0),
                                       resources, instance, 600)  # fmt: skip
            assert result.success, [e.message for e in result.all_events if e.is_failure]
            (a,) = registry.entries(DEPLOYMENT)
            assert (a.state, a.live_epoch, a.requested_by) == ("live", 1, "test-operator")
            steps = registry.steps(a.id)
            assert [(s, o) for s, o, _ in steps if o != "started"] == [
                ("backtest", "passed"), ("backtest_gate", "passed"), ("paper_trial", "passed"), ("paper_gate", "passed"),
                ("go_live", "passed"),
            ]  # fmt: skip
            paper_id = f"{DEPLOYMENT}-paper-{a.id}"
            assert (
                fetch(url, "SELECT count(*) AS n FROM orders WHERE deployment = $1", paper_id)[0]["n"] > 0
            )  # it traded on paper
            paper = dict(next(d for s, o, d in steps if s == "paper_gate" and o == "passed"))
            print("paper trial against the backtest of its window:", paper)
            assert paper["paper"]["orders"] > 0 and paper["backtest_of_window"]["orders"] > 0  # both quoted
            records = strategy_control.latest_records(servers)
            assert records[DEPLOYMENT].running and records[DEPLOYMENT].epoch == 1 and not records[paper_id].running
            assert (spec_of(records[DEPLOYMENT]).parameters, spec_of(records[DEPLOYMENT]).timer_interval_s) == (first, 2.0)
            pipeline.wait_until(
                lambda: fetch(url, "SELECT count(*) AS n FROM orders WHERE deployment = $1 AND account = 'sim'", DEPLOYMENT)[0]["n"] > 0,
                120, "the live version's first order",
            )  # fmt: skip
            backtest_key = dg.AssetKey(["backtests", "inventory_market_maker_v1_0_0"])
            assert instance.get_latest_materialization_event(backtest_key) is not None

            # 2. a second passing promotion hot-deploys over it; 3. rollback returns to the first
            result = run_in_background(pipeline, promote_strategy, promotion(instrument, second, {}), resources, instance, 600)
            assert result.success, [e.message for e in result.all_events if e.is_failure]
            a, b = registry.entries(DEPLOYMENT)
            assert (a.state, b.state, b.live_epoch) == ("replaced", "live", 2)
            assert spec_of(strategy_control.latest_records(servers)[DEPLOYMENT]).parameters == second

            rollback = {
                "ops": {"roll_back": {"config": {"deployment": DEPLOYMENT, "reason": "test", "operator": "test-operator"}}}
            }
            result = run_in_background(pipeline, rollback_strategy, rollback, resources, instance, 300)
            assert result.success, [e.message for e in result.all_events if e.is_failure]
            a, b = registry.entries(DEPLOYMENT)
            assert (a.state, a.live_epoch, b.state) == ("live", 3, "rolled_back")
            record = strategy_control.latest_records(servers)[DEPLOYMENT]
            assert record.epoch == 3 and record.running and spec_of(record).parameters == first
            assert spec_of(record).timer_interval_s == 2.0  # the first version as it ran, its timer too

            # 4. a failing gate stops the run with the reason; nothing is deployed
            failing = promotion(instrument, second, {"min_sharpe": 1e9})
            result = run_in_background(pipeline, promote_strategy, failing, resources, instance, 300)
            assert not result.success
            (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
            assert failure.step_key == "backtest_gate" and "min_sharpe 1e+09" in failure.step_failure_data.error.message
            c = registry.entries(DEPLOYMENT)[-1]
            assert c.state == "rejected" and c.reason.startswith("backtest_gate: sharpe")
            assert strategy_control.latest_records(servers)[DEPLOYMENT].epoch == 3
            assert f"{DEPLOYMENT}-paper-{c.id}" not in strategy_control.latest_records(servers)
            check = instance.event_log_storage.get_latest_asset_check_execution_by_key([dg.AssetCheckKey(backtest_key, GATE)])
            assert check[dg.AssetCheckKey(backtest_key, GATE)].evaluation.passed is False  # type: ignore[union-attr]

            # 5. strategy deployments started and stopped from Dagster on the running host
            momentum = {"id": "sol-momentum", "strategy": "ema-crossover", "version": "1.0.0", "instruments": [instrument],
                        "account": "paper", "mode": "paper", "host": "strategy-host", "confirm_timeout_s": 90,
                        "parameters": {"fast_period": 2, "slow_period": 4, "position_size": "0.05", "bar_interval_s": 1}}  # fmt: skip
            deploy = {"ops": {"deploy_strategy_deployment": {"config": momentum}}}
            result = run_in_background(pipeline, deploy_strategy, deploy, resources, instance, 300)
            assert result.success and result.output_for_node("deploy_strategy_deployment") == 1
            refused = {
                "ops": {
                    "deploy_strategy_deployment": {"config": {**momentum, "parameters": {"fast_period": 5, "slow_period": 4}}}
                }
            }
            result = run_in_background(pipeline, deploy_strategy, refused, resources, instance, 60)
            assert not result.success and "refused" in result.get_step_failure_events()[0].step_failure_data.error.message
            for deployment in ("sol-momentum", DEPLOYMENT):
                stop = {"ops": {"stop_strategy_deployment": {"config": {"id": deployment}}}}
                assert run_in_background(pipeline, stop_strategy, stop, resources, instance, 60).success
            records = strategy_control.latest_records(servers)
            assert not records["sol-momentum"].running and not records[DEPLOYMENT].running
