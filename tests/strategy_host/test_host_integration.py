"""The strategy host against the real broker: market data in, intents out for several deployments;
a bad deployment refused, a raising strategy stopped while the others go on; a restart restores
each deployment's state from strat.state and neither repeats nor loses an event."""

from __future__ import annotations

import time

from platform_streams.schemas import Heartbeat, InputOffset, StrategyIntent, StrategySnapshot, TypedDecoder, encode
from platform_streams.strategy_host.daemon import StrategyHostDaemon, StrategyHostSettings
from platform_streams.strategy_host.hosted_deployment import DeploymentState
from platform_streams.strategy_host.strategy_deployment import StrategyDeploymentSpec
from tests.kafka_helpers import DaemonThread, produce_events, read_until
from tests.strategies.market import bbo, driver_for, instrument, trade
from tests.strategy_host.misbehaving_strategies import Count, RaisingStrategy

BTC, ETH = "binance:BTC/USDT", "binance:ETH/USDT"
RAISING = "tests.strategy_host.misbehaving_strategies:RaisingStrategy"
_intents = TypedDecoder(StrategyIntent)


def deployments() -> list[StrategyDeploymentSpec]:
    return [
        StrategyDeploymentSpec(
            id="maker",
            strategy="inventory-market-maker",
            instruments=[BTC],
            account="a1",
            parameters={"quote_size": "0.1", "max_inventory": "1"},
        ),
        StrategyDeploymentSpec(id="raiser", strategy=RAISING, instruments=[BTC], account="a2", parameters={"fail_on": 3}),
        StrategyDeploymentSpec(id="counter", strategy=RAISING, instruments=[ETH], account="a1", parameters={"fail_on": 1_000}),
        StrategyDeploymentSpec(
            id="bad",
            strategy="ema-crossover",
            instruments=[ETH],
            account="a3",
            parameters={"fast_period": 0, "position_size": "1"},
        ),
    ]


def by_deployment(messages) -> dict[str, list[StrategyIntent]]:  # type: ignore[no-untyped-def]
    found: dict[str, list[StrategyIntent]] = {}
    for message in messages:
        intent = _intents.decode(message.value())
        found.setdefault(intent.deployment, []).append(intent)
    return found


def test_host_fans_out_isolates_a_failure_and_restores_state_after_a_restart(kafka_bootstrap, topic_factory, wait_until) -> None:
    trades, tops, fills = topic_factory("trade"), topic_factory("bbo"), topic_factory("fill")
    instruments, state, intents, beats = (
        topic_factory("instrument", 1),
        topic_factory("state", 1),
        topic_factory("intent"),
        topic_factory("hb", 1),
    )
    produce_events(kafka_bootstrap, instruments, [instrument(), instrument(symbol="ETH/USDT")])
    settings = StrategyHostSettings(
        name="strategy-host-test",
        group=f"host-{time.time_ns()}",
        bootstrap_servers=kafka_bootstrap,
        inputs=[trades, tops, fills],
        output=intents,
        state_topic=state,
        instrument_topic=instruments,
        heartbeat_topic=beats,
        heartbeat_interval_s=0.5,
        metrics_port=-1,
        deployments=deployments(),
    )
    first = StrategyHostDaemon(settings)
    assert "ema-crossover: parameter 'fast_period' = 0 is below its minimum 1" in first.refused["bad"]
    with DaemonThread(first):
        produce_events(kafka_bootstrap, tops, [bbo(100_00, 100_10, 1)])
        produce_events(
            kafka_bootstrap,
            trades,
            [trade(100_00, 10, i) for i in range(1, 6)] + [trade(20_00, 10, i, key=ETH) for i in range(1, 5)],
        )

        def all_there(got) -> bool:  # type: ignore[no-untyped-def]
            found = by_deployment(got)
            return len(found.get("maker", [])) >= 2 and len(found.get("counter", [])) >= 4 and len(found.get("raiser", [])) >= 2

        found = by_deployment(read_until(kafka_bootstrap, intents, all_there))
        wait_until(
            lambda: first.fanout.deployments["raiser"].state is DeploymentState.FAILED, 30, "the raising deployment to stop"
        )
        heartbeat = read_until(
            kafka_bootstrap, beats, lambda got: any("raiser" in TypedDecoder(Heartbeat).decode(m.value()).last_error for m in got)
        )
    assert [i.target_size for i in found["counter"]] == [1, 2, 3, 4]
    assert [i.target_size for i in found["raiser"]] == [1, 2]  # trade 3 raised; 4 and 5 reached no one
    assert first.fanout.deployments["raiser"].error == "ZeroDivisionError: a bug in the strategy"
    assert "deployment raiser: ZeroDivisionError" in TypedDecoder(Heartbeat).decode(heartbeat[-1].value()).last_error
    assert {(i.kind.value, i.side.value) for i in found["maker"]} == {("quote", "buy"), ("quote", "sell")}
    assert all(
        i.account == "a1" and i.mode == "paper" and [h.stage for h in i.hops] == ["feed", "strategy"] for i in found["maker"]
    )
    assert (
        first.metrics.registry.get_sample_value(
            "platform_strategy_host_deployment_failures_total", {"daemon": "strategy-host-test", "deployment": "raiser"}
        )
        == 1
    )

    # a clean stop snapshotted every running deployment: the next host goes on where this one stopped
    second = StrategyHostDaemon(settings)
    with DaemonThread(second):
        produce_events(kafka_bootstrap, trades, [trade(20_00, 10, i, key=ETH) for i in range(5, 7)])
        # every partition read up to the restored counter's sixth intent (maker's and raiser's are elsewhere)
        after = by_deployment(read_until(kafka_bootstrap, intents, lambda got: restored_all(by_deployment(got))))
    assert [i.target_size for i in after["counter"]] == [1, 2, 3, 4, 5, 6]  # restored count, no event twice
    assert len(after["maker"]) == 2 and len(after["raiser"]) == 2

    # as after a crash: the latest snapshot is older than the committed offsets (it covers ETH trades
    # up to 4); the next host starts that partition at the snapshot, so trades 5 and 6 are decided
    # again, from the restored state, into the same intents (same ids: downstream drops them)
    eth_5 = next(
        m
        for m in read_until(kafka_bootstrap, trades, lambda got: len(got) >= 11)
        if m.value() == encode(trade(20_00, 10, 5, key=ETH))
    )
    counted = driver_for(RaisingStrategy, {"fail_on": 1_000}, [instrument(symbol="ETH/USDT")])
    counted.strategy.load_state(Count(4))
    older = StrategySnapshot(
        "counter", "raising", "1", counted.strategy.snapshot(), {}, [InputOffset(trades, eth_5.partition(), eth_5.offset())], 1
    )
    produce_events(kafka_bootstrap, state, [older])
    third = StrategyHostDaemon(settings)
    with DaemonThread(third):
        again = by_deployment(read_until(kafka_bootstrap, intents, lambda got: len(by_deployment(got).get("counter", [])) >= 8))
    assert [i.target_size for i in again["counter"]] == [1, 2, 3, 4, 5, 6, 5, 6]
    assert [i.intent_id for i in again["counter"][6:]] == [i.intent_id for i in after["counter"][4:6]]


def restored_all(seen: dict[str, list[StrategyIntent]]) -> bool:
    return len(seen.get("counter", [])) >= 6 and len(seen.get("maker", [])) >= 2 and len(seen.get("raiser", [])) >= 2
