"""The host's pure logic: deployments refused with clear reasons, events fanned out by instrument
and fills by account, a raising strategy isolated, intents as StrategyIntent events, snapshots
restored with the input they cover skipped, and the same decisions as a backtest."""

from __future__ import annotations

import pytest

from platform_streams.schemas import InputOffset, IntentKind, Side, StrategySnapshot
from platform_streams.strategy_host.fanout import DeploymentFanout
from platform_streams.strategy_host.hosted_deployment import DeploymentRefused, DeploymentState, build_deployment
from platform_streams.strategy_host.intent_events import intent_event
from platform_streams.strategy_host.state_snapshots import snapshot_of
from platform_streams.strategy_host.strategy_deployment import StrategyDeploymentSpec, TradingMode
from strategies.backtest import run_backtest
from strategies.ema_crossover import EmaCrossover
from strategies.intents import CancelQuotes, Quote, TargetPosition
from tests.strategies.market import bbo, closes, fill, instrument, trade

BTC, ETH, OKX_BTC = "binance:BTC/USDT", "binance:ETH/USDT", "okx:BTC/USDT"
REFERENCE = {i.key: i for i in (instrument(), instrument(symbol="ETH/USDT"), instrument("okx"))}
RAISING = "tests.strategy_host.misbehaving_strategies:RaisingStrategy"


def spec(
    id: str, strategy: str = "ema-crossover", instruments: list[str] | None = None, account: str = "a1", **extra
) -> StrategyDeploymentSpec:  # type: ignore[no-untyped-def]
    parameters = extra.pop(
        "parameters", {"fast_period": 2, "slow_period": 4, "position_size": "1"} if strategy == "ema-crossover" else {}
    )
    return StrategyDeploymentSpec(
        id=id, strategy=strategy, instruments=instruments or [BTC], account=account, parameters=parameters, **extra
    )


def fanout_of(*specs: StrategyDeploymentSpec) -> DeploymentFanout:
    fanout = DeploymentFanout()
    for s in specs:
        fanout.add(build_deployment(s, REFERENCE))
    fanout.activate_ready(REFERENCE)
    return fanout


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (
            spec("d", parameters={"fast_period": 0, "position_size": "1"}),
            "ema-crossover: parameter 'fast_period' = 0 is below its minimum 1",
        ),
        (spec("d", strategy="nope"), "unknown strategy 'nope'"),
        (spec("d", version="9.9"), "the spec wants ema-crossover version 9.9, the host has 1.0.0"),
        (spec("d", instruments=["BTCUSDT"]), "instrument 'BTCUSDT' is not exchange:symbol"),
        (
            spec("d", strategy="cross-exchange-arbitrage", parameters={"trade_size": "1", "max_inventory": "1"}),
            "needs exactly two instruments",
        ),
        (spec("d", timer_interval_s=-1), "timer_interval_s = -1 is negative"),
    ],
)
def test_a_bad_deployment_is_refused_with_the_reason(bad: StrategyDeploymentSpec, reason: str) -> None:
    with pytest.raises(DeploymentRefused, match="deployment 'd' refused: .*" + reason.replace("(", r"\(").replace(".", r"\.")):
        build_deployment(bad, REFERENCE)


def test_two_deployments_cannot_trade_one_instrument_on_one_account() -> None:
    fanout = fanout_of(spec("first"))
    with pytest.raises(DeploymentRefused, match="deployment 'first' already trades binance:BTC/USDT on account 'a1'"):
        fanout.add(build_deployment(spec("second"), REFERENCE))
    fanout.add(build_deployment(spec("third", account="a2"), REFERENCE))  # another account is fine


def test_a_deployment_waits_for_its_instruments_reference_data() -> None:
    fanout = DeploymentFanout()
    reference: dict = {}
    fanout.add(build_deployment(spec("d", instruments=[BTC, ETH]), reference))
    assert fanout.activate_ready(reference) == [] and fanout.deployments["d"].state is DeploymentState.WAITING
    reference[BTC] = REFERENCE[BTC]
    assert fanout.activate_ready(reference) == []
    reference[ETH] = REFERENCE[ETH]
    assert [d.id for d in fanout.activate_ready(reference)] == ["d"]


def test_events_go_to_the_deployments_of_their_instrument_and_fills_to_their_account() -> None:
    fanout = fanout_of(
        spec("btc-a1", RAISING, parameters={"fail_on": 100}),
        spec("btc-a2", RAISING, account="a2", parameters={"fail_on": 100}),
        spec("eth-a1", RAISING, instruments=[ETH], parameters={"fail_on": 100}),
    )
    decisions, _ = fanout.dispatch(trade(100_00, 1, 1), "md.trade", 0, 0)
    assert sorted(d.id for d, _ in decisions) == ["btc-a1", "btc-a2"]
    decisions, _ = fanout.dispatch(trade(100_00, 1, 2, key=ETH), "md.trade", 0, 1)
    assert [d.id for d, _ in decisions] == ["eth-a1"]
    assert fanout.dispatch(trade(100_00, 1, 3, key=OKX_BTC), "md.trade", 0, 2) == ([], [])
    fanout.dispatch(fill(Side.BUY, 100_00, 7, 4, account="a2"), "exec.fill", 0, 0)
    assert fanout.deployments["btc-a2"].driver.context.position(BTC) == 7
    assert fanout.deployments["btc-a1"].driver.context.position(BTC) == 0
    fanout.dispatch(fill(Side.BUY, 100_00, 7, 5, account="a9"), "exec.fill", 0, 1)  # another host's account
    assert fanout.deployments["btc-a2"].driver.context.position(BTC) == 7


def test_a_strategy_that_raises_is_stopped_and_the_others_go_on() -> None:
    fanout = fanout_of(
        spec("fragile", RAISING, parameters={"fail_on": 2}), spec("sturdy", RAISING, account="a2", parameters={"fail_on": 100})
    )
    fanout.dispatch(trade(100_00, 1, 1), "md.trade", 0, 0)
    decisions, failed = fanout.dispatch(trade(100_00, 1, 2), "md.trade", 0, 1)
    assert [d.id for d in failed] == ["fragile"] and [d.id for d, _ in decisions] == ["sturdy"]
    fragile = fanout.deployments["fragile"]
    assert fragile.state is DeploymentState.FAILED and fragile.error == "ZeroDivisionError: a bug in the strategy"
    decisions, failed = fanout.dispatch(trade(100_00, 1, 3), "md.trade", 0, 2)
    assert [d.id for d, _ in decisions] == ["sturdy"] and failed == []
    assert [d.id for d in fanout.running()] == ["sturdy"]


def test_intents_become_strategy_intent_events_with_a_deterministic_id_and_a_hop() -> None:
    deployment = fanout_of(
        spec("mm", "inventory-market-maker", parameters={"quote_size": "1", "max_inventory": "2"}, mode=TradingMode.LIVE)
    ).deployments["mm"]
    deployment.driver.context.add_to_position(BTC, 5)
    target = intent_event(deployment, TargetPosition(BTC, -3, 99_00, "why"), REFERENCE[BTC], "trade:x", 0, 10, 20, 30)
    assert (target.kind, target.side, target.target_size, target.limit_price, target.quote_size) == (
        IntentKind.TARGET,
        Side.SELL,
        -3,
        99_00,
        0,
    )
    assert target.intent_id == "mm:trade:x:0" and target.key == "a1"  # keyed by account, as risk reads them
    assert (target.deployment, target.account, target.mode, target.strategy, target.strategy_version) == (
        "mm",
        "a1",
        "live",
        "inventory-market-maker",
        "1.0.0",
    )
    assert (target.market_receive_ts_ns, [(h.stage, h.in_ts_ns, h.out_ts_ns) for h in target.hops]) == (
        10,
        [("strategy", 20, 30)],
    )
    quote = intent_event(deployment, Quote(BTC, Side.BUY, 98_00, 4), REFERENCE[BTC], "trade:x", 1, 10, 20, 30)
    assert (quote.kind, quote.side, quote.limit_price, quote.quote_size, quote.target_size) == (
        IntentKind.QUOTE,
        Side.BUY,
        98_00,
        4,
        0,
    )
    cancel = intent_event(deployment, CancelQuotes(BTC), REFERENCE[BTC], "trade:x", 2, 10, 20, 30)
    assert (cancel.kind, cancel.side, cancel.limit_price) == (IntentKind.CANCEL, Side.UNKNOWN, None)
    with pytest.raises(ValueError, match="a quote needs a side and a positive size"):
        intent_event(deployment, Quote(BTC, Side.BUY, 98_00, 0), REFERENCE[BTC], "trade:x", 3, 10, 20, 30)


def test_a_restored_deployment_skips_the_input_its_state_covers() -> None:
    fanout = fanout_of(spec("d", RAISING, parameters={"fail_on": 100}))
    deployment = fanout.deployments["d"]
    fanout.dispatch(trade(100_00, 1, 1), "md.trade", 0, 0)
    snapshot = StrategySnapshot(
        "d", "raising", "1", deployment.driver.strategy.snapshot(), {BTC: 3}, [InputOffset("md.trade", 0, 1)], 0
    )
    restarted = fanout_of(spec("d", RAISING, parameters={"fail_on": 100}))
    assert restarted.restore(snapshot) is restarted.deployments["d"]
    assert restarted.deployments["d"].driver.context.position(BTC) == 3
    assert restarted.dispatch(trade(100_00, 1, 1), "md.trade", 0, 0) == ([], [])  # offset 0: already in the state
    decisions, _ = restarted.dispatch(trade(100_00, 1, 2), "md.trade", 0, 1)
    assert [intent.size for _, intents in decisions for intent in intents] == [2]  # the count went on from 1
    decisions, _ = restarted.dispatch(trade(100_00, 1, 2), "md.trade", 1, 0)  # another partition: not covered
    assert decisions


def test_the_host_decides_exactly_as_the_backtest_on_the_same_events() -> None:
    events = closes([100_00] * 4 + [101_00, 102_00, 103_00, 99_00, 95_00, 94_00, 99_00, 104_00])
    events += [bbo(100_00, 100_10, i) for i in range(3)]  # not the strategy's concern: no callback effect
    events.sort(key=lambda e: e.receive_ts_ns)
    parameters = {"fast_period": 2, "slow_period": 4, "position_size": "1"}
    backtest = run_backtest(EmaCrossover, parameters, [BTC], REFERENCE.values(), events)
    fanout = fanout_of(spec("d", parameters=parameters))
    live = [
        intent
        for offset, event in enumerate(events)
        for _, intents in fanout.dispatch(event, "t", 0, offset)[0]
        for intent in intents
    ]
    assert live == [timed.intent for timed in backtest.intents] and len(live) == 3


def test_catch_up_a_replacement_and_a_retirement_reroute_without_double_counting() -> None:
    """The pure parts of a hand-over: the others skip the input the host reads again for a catch-up,
    the new version is withheld until it has read to the catch-up offsets, a snapshot never claims
    less than its state includes, and a retired or replaced deployment gets no more events."""
    fanout = fanout_of(
        spec("counter", RAISING, parameters={"fail_on": 1_000}), spec("old", RAISING, [ETH], parameters={"fail_on": 1_000})
    )
    for offset in range(3):
        fanout.dispatch(trade(100_00, 1, offset), "md.trade", 0, offset)
    counter = fanout.deployments["counter"]
    late = build_deployment(spec("late", RAISING, account="a2", parameters={"fail_on": 1_000}), REFERENCE, epoch=4)
    fanout.add(late)
    fanout.activate_ready(REFERENCE)
    fanout.cover({("md.trade", 0): 3}, but=late)  # the host reads md.trade[0] again from 0 for "late"
    late.catching_up = {("md.trade", 0): 3}
    replayed = [fanout.dispatch(trade(100_00, 1, offset), "md.trade", 0, offset)[0] for offset in range(3)]
    assert [[d.id for d, _ in decisions] for decisions in replayed] == [["late"]] * 3  # "counter" has seen these
    assert not late.caught_up({("md.trade", 0): 2}) and late.caught_up({("md.trade", 0): 3})
    assert counter.driver.strategy.count.trades == 3 and late.driver.strategy.count.trades == 3
    assert [(o.partition, o.offset) for o in snapshot_of(counter, {("md.trade", 0): 1}, 1).input_offsets] == [(0, 3)]

    replacement = build_deployment(spec("old", RAISING, [ETH], parameters={"fail_on": 1_000}), REFERENCE, epoch=1)
    old = fanout.replace(replacement)
    fanout.activate_ready(REFERENCE)
    assert old.state is DeploymentState.STOPPED and fanout.deployments["old"] is replacement
    assert [d.id for d, _ in fanout.dispatch(trade(20_00, 1, 9, key=ETH), "md.trade", 1, 9)[0]] == ["old"]
    assert replacement.driver.strategy.count.trades == 1 and old.driver.strategy.count.trades == 0
    fanout.retire(replacement)
    assert fanout.dispatch(trade(20_00, 1, 10, key=ETH), "md.trade", 1, 10)[0] == []
    assert "old" not in {d.id for d in fanout.running()}
