"""``promote_strategy``: one run takes ``strategy@version`` with parameters from backtest to live.

  register → backtest → backtest_gate → paper_trial → paper_gate → go_live

- **backtest**: stored market data through the strategy, its budget, the live risk limits and the
  paper venue's fill model; the backtest asset of the version is materialised with the metrics
  and the plot, and a ``backtest_results`` row.
- **backtest_gate**: the metrics against the run's ``gate`` thresholds, recorded as the asset's
  ``gate`` check; a miss stops the run with the reason.
- **paper_trial**: the version runs on paper (its own deployment id, the paper account) on the
  strategy host for ``paper_seconds``, confirmed by the host's snapshot; then it is stopped and its
  resting orders cancelled (a ``deployment:`` kill switch).
- **paper_gate**: what paper did (orders, fills, PnL from PostgreSQL) against a backtest of the
  same window; a fill rate or PnL further apart than the ``drift`` thresholds stops the run.
- **go_live**: a hot deploy of the live deployment (``ctl.strategy``, the next fencing epoch) on
  its host beside the running strategies: the version it replaces stops, risk refuses its intents
  from then on, its state, positions and resting orders pass to the new version; the run waits for
  the host to confirm the new epoch.

Every step is recorded in the strategy registry (``strategy_registry``, ``_steps``) with who and
when; a failure leaves the entry ``rejected`` (a gate) or ``failed`` (anything else) with the reason.
``rollback_strategy`` returns a deployment to the version it ran before.
"""

# No `from __future__ import annotations` here: Dagster resolves config and resource annotations when defined.
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import dagster as dg
import msgspec

from platform_assets.backtests.backtest_assets import GATE, GROUP, BacktestRangeConfig, asset_name, outcome_metadata
from platform_assets.backtests.stored_backtest import (
    TRADING_DEPLOYMENT,
    BacktestRequest,
    run_stored_backtest,
    store_outcome,
)
from platform_assets.jobs.strategy_deployments import run_operator
from platform_assets.promotion.paper_trial import DriftThresholds, drift_failures, paper_figures, stored_until
from platform_assets.promotion.strategy_registry import StrategyRegistry
from platform_assets.resources.platform_servers import KafkaResource, PostgresResource
from platform_streams.backtesting.gate import GateThresholds, gate_failures
from platform_streams.backtesting.performance import Performance
from platform_streams.execution.daemon import PaperSettings
from platform_streams.risk.risk_control_topic import write_control
from platform_streams.strategy_host import strategy_control
from platform_streams.strategy_host.strategy_deployment import StrategyDeploymentSpec, TradingMode
from platform_streams.supervisor.spec import load_spec
from strategies.catalog import UnknownStrategy, strategy_class


class DriftConfig(dg.Config):
    max_fill_rate_drift: float = 0.5
    max_pnl_drift: float = 0.01  # of the capital
    min_paper_orders: int = 0


class PromotionConfig(dg.Config):
    """``strategy`` at ``version`` with ``parameters`` on ``instruments``, to run live as
    ``deployment`` (a new id starts it; a running one is hot-deployed) on ``account`` at ``host``."""

    strategy: str
    version: str
    parameters: dict[str, Any] = {}
    instruments: list[str]
    deployment: str
    account: str = "sim"
    host: str = "strategy-host"
    timer_interval_s: float = 0.0
    backtest: BacktestRangeConfig
    gate: dict[str, float] = {}
    paper_account: str = "paper"
    paper_seconds: float = 300.0
    drift: DriftConfig = DriftConfig()
    confirm_timeout_s: float = 120.0  # for the host's snapshot of a started version
    settle_timeout_s: float = 60.0  # for the sinks to store the paper window's market data
    operator: str = ""  # default: the run's `user` tag, else the Dagster process's user


class Candidate(msgspec.Struct, kw_only=True):
    """What the steps hand on: the promotion's config, its registry entry, and what was found."""

    entry: int
    operator: str
    config: dict[str, Any]
    backtest: dict[str, Any] = {}
    paper_deployment: str = ""
    paper_window: list[str] = []


def _spec(candidate: Candidate, deployment: str, account: str, mode: TradingMode) -> StrategyDeploymentSpec:
    c = candidate.config
    return StrategyDeploymentSpec(
        id=deployment, strategy=c["strategy"], version=c["version"], instruments=c["instruments"], account=account,
        mode=mode, parameters=c["parameters"], timer_interval_s=c["timer_interval_s"],
    )  # fmt: skip


def _failed(registry: StrategyRegistry, candidate: Candidate, step: str, reason: str, rejected: bool) -> dg.Failure:
    registry.step(candidate.entry, step, "failed", candidate.operator, reason=reason)
    registry.update(candidate.entry, "rejected" if rejected else "failed", f"{step}: {reason}")
    return dg.Failure(description=f"{step}: {reason}", allow_retries=False, metadata={"reason": reason})


def paper_fees(account: str, exchange: str) -> tuple[int, int]:
    """The maker and taker fees the paper execution daemon of ``account`` at ``exchange`` charges."""
    for daemon in load_spec(TRADING_DEPLOYMENT).daemons:
        config = daemon.config
        if daemon.kind == "execution" and config.get("mode") == "paper" and (config.get("account"), config.get("exchange")) == (
            account, exchange,
        ):  # fmt: skip
            paper = msgspec.convert(config.get("paper", {}), PaperSettings)  # as the daemon reads its config
            return paper.maker_fee_bps, paper.taker_fee_bps
    return PaperSettings().maker_fee_bps, PaperSettings().taker_fee_bps


@dg.op(description="Check the strategy version and open its entry in the strategy registry.")
def register(context: dg.OpExecutionContext, config: PromotionConfig, postgres: PostgresResource) -> Candidate:
    try:
        kind = strategy_class(config.strategy)
        kind.check_instruments(config.instruments)
        kind.validate(config.parameters)
    except (UnknownStrategy, ValueError) as error:
        raise dg.Failure(f"register: {error}", allow_retries=False) from None
    if kind.version != config.version:
        raise dg.Failure(f"register: {config.strategy} is at version {kind.version}, not {config.version}", allow_retries=False)
    operator = config.operator or run_operator(context)
    entry = StrategyRegistry(postgres.url).register(
        deployment=config.deployment, strategy=config.strategy, version=config.version, parameters=config.parameters,
        instruments=config.instruments, account=config.account, host=config.host, run_id=context.run_id,
        requested_by=operator, timer_interval_s=config.timer_interval_s,
    )  # fmt: skip
    context.log.info(f"registry entry {entry}: {config.strategy}@{config.version} for {config.deployment}, by {operator}")
    return Candidate(entry=entry, operator=operator, config=config.model_dump())


@dg.op(description="Backtest the version over the stored market data; materialise its backtest asset.")
def backtest(context: dg.OpExecutionContext, candidate: Candidate, postgres: PostgresResource):  # type: ignore[no-untyped-def]
    registry, c = StrategyRegistry(postgres.url), candidate.config
    registry.step(candidate.entry, "backtest", "started", candidate.operator)
    request = BacktestRequest(strategy=c["strategy"], parameters=c["parameters"], instruments=c["instruments"],
                              account=c["account"], timer_interval_s=c["timer_interval_s"], **c["backtest"])  # fmt: skip
    try:
        outcome = run_stored_backtest(postgres.url, request, deployment_id=c["deployment"])
    except (LookupError, ValueError) as error:
        raise _failed(registry, candidate, "backtest", str(error), rejected=False) from None
    store_outcome(postgres.url, context.run_id, outcome)
    found = msgspec.to_builtins(outcome.performance)
    registry.update(candidate.entry, "backtesting", backtest_run_id=context.run_id, backtest=found)
    registry.step(candidate.entry, "backtest", "passed", candidate.operator, **found)
    yield dg.AssetMaterialization(asset_key=dg.AssetKey([GROUP, asset_name(strategy_class(c["strategy"]))]),
                                  metadata=outcome_metadata(outcome))  # fmt: skip
    yield dg.Output(msgspec.structs.replace(candidate, backtest=found))


@dg.op(description="Hold the backtest's metrics to the run's gate thresholds (the backtest asset's gate check).")
def backtest_gate(context: dg.OpExecutionContext, candidate: Candidate, postgres: PostgresResource) -> Candidate:
    registry, c = StrategyRegistry(postgres.url), candidate.config
    try:
        thresholds = msgspec.convert(c["gate"], GateThresholds, strict=False)
    except msgspec.ValidationError as error:
        raise _failed(registry, candidate, "backtest_gate", f"bad gate thresholds: {error}", rejected=False) from None
    failures = gate_failures(msgspec.convert(candidate.backtest, Performance, strict=False), thresholds)
    context.instance.report_runless_asset_event(
        dg.AssetCheckEvaluation(
            asset_key=dg.AssetKey([GROUP, asset_name(strategy_class(c["strategy"]))]),
            check_name=GATE,
            passed=not failures,
            metadata={
                "thresholds": dg.MetadataValue.json(c["gate"]),
                "failures": "; ".join(failures) or "-",
                "promotion_run": context.run_id,
            },  # fmt: skip
            severity=dg.AssetCheckSeverity.ERROR,
        )
    )
    if failures:
        raise _failed(registry, candidate, "backtest_gate", "; ".join(failures), rejected=True)
    registry.step(candidate.entry, "backtest_gate", "passed", candidate.operator, thresholds=c["gate"])
    return candidate


@dg.op(description="Run the version on paper on the strategy host for paper_seconds, then stop it and cancel its orders.")
def paper_trial(
    context: dg.OpExecutionContext, candidate: Candidate, kafka: KafkaResource, postgres: PostgresResource
) -> Candidate:
    registry, c = StrategyRegistry(postgres.url), candidate.config
    servers, paper_id = kafka.bootstrap_servers, f"{c['deployment']}-paper-{candidate.entry}"
    spec = _spec(candidate, paper_id, c["paper_account"], TradingMode.PAPER)
    registry.update(candidate.entry, "paper")
    registry.step(candidate.entry, "paper_trial", "started", candidate.operator, deployment=paper_id, seconds=c["paper_seconds"])
    record, _ = strategy_control.deploy(servers, spec, c["host"], candidate.operator)
    started = datetime.fromtimestamp(record.ts_ns / 1e9, UTC)
    try:
        strategy_control.wait_until_running(servers, paper_id, record.epoch, c["confirm_timeout_s"])
    except strategy_control.NotConfirmed as error:
        strategy_control.stop(servers, paper_id, candidate.operator)
        raise _failed(registry, candidate, "paper_trial", str(error), rejected=False) from None
    context.log.info(f"{paper_id} runs on paper on {c['host']}; trial of {c['paper_seconds']:g} s")
    deadline = time.monotonic() + c["paper_seconds"]
    while (left := deadline - time.monotonic()) > 0:
        time.sleep(min(left, 10.0))
        context.log.info(f"paper trial: {max(0.0, deadline - time.monotonic()):.0f} s left")
    stopped = strategy_control.stop(servers, paper_id, candidate.operator)
    write_control(servers, f"deployment:{paper_id}", False, "paper trial ended", candidate.operator)
    ended = datetime.fromtimestamp(stopped.ts_ns / 1e9, UTC)
    registry.step(candidate.entry, "paper_trial", "passed", candidate.operator, deployment=paper_id,
                  start=started.isoformat(), end=ended.isoformat())  # fmt: skip
    return msgspec.structs.replace(candidate, paper_deployment=paper_id, paper_window=[started.isoformat(), ended.isoformat()])


@dg.op(description="Compare what paper did with a backtest of the same window: fill rate and PnL drift.")
def paper_gate(context: dg.OpExecutionContext, candidate: Candidate, postgres: PostgresResource) -> Candidate:
    registry, c = StrategyRegistry(postgres.url), candidate.config
    start, end = (datetime.fromisoformat(t) for t in candidate.paper_window)
    deadline = time.monotonic() + c["settle_timeout_s"]
    while (stored := stored_until(postgres.url, c["instruments"])) is None or stored < end:
        if time.monotonic() > deadline:
            raise _failed(registry, candidate, "paper_gate", f"the sinks stored market data only until {stored}, "
                          f"not to the paper window's end {end}", rejected=False)  # fmt: skip
        time.sleep(1.0)
    time.sleep(2.0)  # execution records the last fills of the stopped paper deployment
    paper = paper_figures(postgres.url, candidate.paper_deployment, end)
    maker, taker = paper_fees(c["paper_account"], c["instruments"][0].partition(":")[0])
    window = BacktestRequest(
        strategy=c["strategy"], parameters=c["parameters"], instruments=c["instruments"], start=start.isoformat(),
        end=(end + timedelta(microseconds=1)).isoformat(), capital=c["backtest"]["capital"], account=c["paper_account"],
        maker_fee_bps=maker, taker_fee_bps=taker, sample_interval_s=1, timer_interval_s=c["timer_interval_s"],
    )  # fmt: skip
    try:
        replayed = run_stored_backtest(postgres.url, window, deployment_id=candidate.paper_deployment).performance
    except LookupError as error:
        raise _failed(registry, candidate, "paper_gate", str(error), rejected=False) from None
    thresholds = msgspec.convert(c["drift"], DriftThresholds)
    figures = {
        "paper": msgspec.to_builtins(paper),
        "backtest_of_window": {"orders": replayed.orders, "fills": replayed.fills, "pnl": str(replayed.pnl)},
        "thresholds": c["drift"],
    }
    registry.update(candidate.entry, "paper", paper=figures)
    failures = drift_failures(paper, replayed, thresholds, Decimal(c["backtest"]["capital"]))
    context.log.info(
        f"paper: {paper}; backtest of the window: {replayed.orders} orders, {replayed.fills} fills, PnL {replayed.pnl}"
    )
    if failures:
        raise _failed(registry, candidate, "paper_gate", "; ".join(failures), rejected=True)
    registry.step(candidate.entry, "paper_gate", "passed", candidate.operator, **figures)
    return candidate


@dg.op(description="Hot-deploy the version live beside the running strategies; the version it replaces stops.")
def go_live(context: dg.OpExecutionContext, candidate: Candidate, kafka: KafkaResource, postgres: PostgresResource) -> dg.Output:
    registry, c = StrategyRegistry(postgres.url), candidate.config
    registry.update(candidate.entry, "going_live")
    registry.step(candidate.entry, "go_live", "started", candidate.operator, host=c["host"])
    spec = _spec(candidate, c["deployment"], c["account"], TradingMode.LIVE)
    record, replaced = strategy_control.deploy(kafka.bootstrap_servers, spec, c["host"], candidate.operator)
    try:
        strategy_control.wait_until_running(kafka.bootstrap_servers, c["deployment"], record.epoch, c["confirm_timeout_s"])
    except strategy_control.NotConfirmed as error:
        raise _failed(registry, candidate, "go_live", str(error), rejected=False) from None
    before = registry.make_live(candidate.entry, record.epoch, candidate.operator)
    what = "started" if replaced is None or not replaced.running else f"replaced epoch {replaced.epoch}"
    registry.step(candidate.entry, "go_live", "passed", candidate.operator, epoch=record.epoch, host=c["host"],
                  replaced_entry=before.id if before else None, action=what)  # fmt: skip
    context.log.info(f"{c['deployment']} live at epoch {record.epoch} on {c['host']} ({what})")
    return dg.Output(record.epoch, metadata={"deployment": c["deployment"], "epoch": record.epoch, "action": what})


@dg.job(description="Promote strategy@version with parameters: backtest → gate → paper → drift gate → live hot deploy.")
def promote_strategy() -> None:
    go_live(paper_gate(paper_trial(backtest_gate(backtest(register())))))


class RollbackConfig(dg.Config):
    """Return ``deployment`` to the version it ran before its live one (the registry's)."""

    deployment: str
    reason: str = "rollback"
    confirm_timeout_s: float = 120.0
    operator: str = ""


@dg.op(description="Hot-deploy the deployment's previous registered version; the current one is rolled back.")
def roll_back(context: dg.OpExecutionContext, config: RollbackConfig, kafka: KafkaResource, postgres: PostgresResource) -> int:
    registry = StrategyRegistry(postgres.url)
    operator = config.operator or run_operator(context)
    current, previous = registry.live(config.deployment), registry.previous(config.deployment)
    if current is None or previous is None:
        missing = "no live version" if current is None else "no earlier version"
        raise dg.Failure(f"rollback: {config.deployment} has {missing} in the strategy registry", allow_retries=False)
    spec = StrategyDeploymentSpec(
        id=config.deployment, strategy=previous.strategy, version=previous.version, instruments=previous.instruments,
        account=previous.account, mode=TradingMode.LIVE, parameters=previous.parameters,
        timer_interval_s=previous.timer_interval_s,
    )  # fmt: skip
    registry.step(current.id, "rollback", "started", operator, to_entry=previous.id, reason=config.reason)
    record, _ = strategy_control.deploy(kafka.bootstrap_servers, spec, previous.host, operator)
    try:
        strategy_control.wait_until_running(kafka.bootstrap_servers, config.deployment, record.epoch, config.confirm_timeout_s)
    except strategy_control.NotConfirmed as error:
        registry.step(current.id, "rollback", "failed", operator, reason=str(error))
        raise dg.Failure(f"rollback: {error}", allow_retries=False) from None
    registry.roll_back(current.id, previous.id, record.epoch, f"{config.reason} (by {operator})")
    registry.step(current.id, "rollback", "passed", operator, to_entry=previous.id, epoch=record.epoch)
    context.log.info(
        f"{config.deployment}: back to {previous.strategy}@{previous.version} (entry {previous.id}) at epoch {record.epoch}"
    )
    return record.epoch


@dg.job(description="Return a live deployment to the version it ran before (from the strategy registry).")
def rollback_strategy() -> None:
    roll_back()


PROMOTION_JOBS = [promote_strategy, rollback_strategy]
