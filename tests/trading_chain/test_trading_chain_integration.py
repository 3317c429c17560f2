"""The trading chain against the real broker: a market maker's quotes go out as intents and, from the
same process, as order requests keyed by account with the trace from the feed to risk; a kill switch
read from ctl.risk turns the next quotes into rejections while their cancels still go out."""

from __future__ import annotations

import time

from platform_streams.risk.risk_stage import RiskTopics
from platform_streams.schemas import CancelRequest, OrderRequest, RiskControl, RiskRejection, StrategyIntent, TypedDecoder
from platform_streams.strategy_host.strategy_deployment import StrategyDeploymentSpec
from platform_streams.trading_chain.daemon import ChainedRiskSettings, TradingChainDaemon, TradingChainSettings
from tests.kafka_helpers import DaemonThread, produce_events, read_until
from tests.strategies.market import bbo, instrument

BTC = "binance:BTC/USDT"
_requests = TypedDecoder(OrderRequest, CancelRequest)


def test_quotes_become_intents_and_order_requests_in_one_process_and_a_kill_switch_stops_them(
    kafka_bootstrap, topic_factory, wait_until
) -> None:
    tops, fills, intents, requests, rejections, events = (
        topic_factory(name) for name in ("bbo", "fill", "intent", "req", "rej", "ev")
    )
    instruments, state, controls = topic_factory("instrument", 1), topic_factory("state", 1), topic_factory("ctl", 1)
    produce_events(kafka_bootstrap, instruments, [instrument()])
    risk_topics = RiskTopics(
        order_requests=requests, rejections=rejections, controls=controls, instruments=instruments, fills=fills,
        order_events=events, top_of_book=tops,
    )  # fmt: skip
    maker = StrategyDeploymentSpec(
        id="maker", strategy="inventory-market-maker", instruments=[BTC], account="a1",
        parameters={"quote_size": "0.1", "max_inventory": "1"},
    )  # fmt: skip
    chain = TradingChainDaemon(
        TradingChainSettings(
            name="chain-test", group=f"chain-{time.time_ns()}", bootstrap_servers=kafka_bootstrap, inputs=[tops, fills],
            output=intents, state_topic=state, instrument_topic=instruments, metrics_port=-1, deployments=[maker],
            risk=ChainedRiskSettings(topics=risk_topics),
        )
    )  # fmt: skip
    with DaemonThread(chain):
        produce_events(kafka_bootstrap, tops, [bbo(100_00, 100_02, 1)])
        placed = read_until(kafka_bootstrap, requests, lambda got: len(got) >= 2)
        quoted = read_until(kafka_bootstrap, intents, lambda got: len(got) >= 2)
        orders = [_requests.decode(m.value()) for m in placed]
        assert all(isinstance(o, OrderRequest) and o.account == "a1" for o in orders) and {m.key() for m in placed} == {b"a1"}
        assert {o.intent_id for o in orders} == {TypedDecoder(StrategyIntent).decode(m.value()).intent_id for m in quoted}
        assert all([h.stage for h in o.hops] == ["feed", "strategy", "risk"] for o in orders)  # type: ignore[union-attr]
        assert chain.risk.engine.exposure.open_order_count("a1") == 2

        produce_events(kafka_bootstrap, controls, [RiskControl("account:a1", True, "drill", "test", time.time_ns())])
        wait_until(lambda: chain.risk.engine.kill_switches.halted, 30, "the kill switch to be read")
        produce_events(kafka_bootstrap, tops, [bbo(101_00, 101_02, 2)])  # the mid moved: the maker quotes anew
        refused = read_until(kafka_bootstrap, rejections, lambda got: len(got) >= 2)
        withdrawn = read_until(kafka_bootstrap, requests, lambda got: len(got) >= 4)
    assert {TypedDecoder(RiskRejection).decode(m.value()).rule for m in refused} == {"kill_switch"}
    cancels = [_requests.decode(m.value()) for m in withdrawn[2:]]
    assert all(isinstance(c, CancelRequest) for c in cancels)
    assert {c.client_order_id for c in cancels} == {o.client_order_id for o in orders}  # type: ignore[union-attr]
