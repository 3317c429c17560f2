"""The trading chain's ``handle`` on recorded messages (no consumer loop): an event goes through the
strategies and risk in one call, both topics are published, the order request carries the whole
trace from the feed to risk, and risk's side inputs (a kill switch) govern what leaves."""

from __future__ import annotations

import time

from platform_streams.schemas import (
    Hop,
    OrderRequest,
    RiskControl,
    RiskRejection,
    StrategyDeploymentControl,
    StrategyIntent,
    TypedDecoder,
    encode,
)
from platform_streams.schemas.hop_trace import hops_header
from platform_streams.strategy_host.strategy_deployment import StrategyDeploymentSpec
from platform_streams.trading_chain.daemon import TradingChainDaemon, TradingChainSettings
from tests.strategies.market import bbo, instrument, trade
from tests.strategy_host.test_host_handle import BTC, STRATEGIES, RecordedMessage

_decoded = TypedDecoder(StrategyIntent, OrderRequest, RiskRejection).decode


def chain(kafka_bootstrap: str) -> TradingChainDaemon:
    spec = StrategyDeploymentSpec(
        id="counter", strategy=f"{STRATEGIES}:RaisingStrategy", instruments=[BTC], account="main", parameters={"fail_on": 1_000}
    )
    daemon = TradingChainDaemon(
        TradingChainSettings(
            name="chain-test", bootstrap_servers=kafka_bootstrap, metrics_port=-1, deployments=[spec], snapshot_interval_s=3_600
        )
    )
    for topic in {daemon.settings.instrument_topic, daemon.risk.topics.instruments}:
        daemon.on_side_input(topic, [instrument()])
    top = bbo(100_00, 100_02, 1)
    list(daemon.handle([RecordedMessage("md.bbo", 0, encode(top), key=top.key.encode())]))  # type: ignore[list-item]
    assert daemon.risk.engine.exposure.mid(BTC) is not None  # risk's top of book is the chain's input
    return daemon


def test_side_inputs_are_the_hosts_and_risks_each_read_once(kafka_bootstrap) -> None:
    topics = [side.topic for side in chain(kafka_bootstrap).side_inputs()]
    assert len(topics) == len(set(topics))
    assert set(topics) == {
        "ref.instrument", "strat.state", "ctl.strategy", "ctl.risk", "exec.fill", "exec.order_event", "exec.order_request"
    }  # fmt: skip


def test_a_deployment_control_record_reaches_the_host_and_risk_alike(kafka_bootstrap) -> None:
    """ctl.strategy is read once, and both halves of the chain take it: the host its deployments,
    risk the epochs it fences by."""
    daemon = chain(kafka_bootstrap)
    record = StrategyDeploymentControl("elsewhere", 3, "another-host", True, b"{}", "test", time.time_ns())
    daemon.on_side_input("ctl.strategy", [record])
    assert daemon.risk.engine.epochs.current("elsewhere") == record


def test_an_event_becomes_an_intent_and_its_order_request_in_the_same_call(kafka_bootstrap) -> None:
    daemon = chain(kafka_bootstrap)
    cause = trade(100_01, 1, 1)
    canonical = Hop("canonical", cause.receive_ts_ns + 1_000, cause.receive_ts_ns + 3_000)
    message = RecordedMessage("md.trade", 0, encode(cause), headers=hops_header([canonical]))
    before = time.time_ns()
    outputs = list(daemon.handle([message]))  # type: ignore[list-item]
    assert [o.topic for o in outputs] == ["strat.intent", "exec.order_request"]
    intent, request = (_decoded(o.value) for o in outputs)
    assert isinstance(intent, StrategyIntent) and isinstance(request, OrderRequest)
    assert request.intent_id == intent.intent_id and request.account == "main" and outputs[1].key == intent.key
    assert [h.stage for h in request.hops] == ["feed", "canonical", "strategy", "risk"]
    feed, carried, strategy, risk = request.hops
    assert (feed.in_ts_ns, feed.out_ts_ns) == (cause.exchange_ts_ns, cause.receive_ts_ns) and carried == canonical
    assert before <= strategy.in_ts_ns <= strategy.out_ts_ns <= risk.in_ts_ns <= risk.out_ts_ns <= time.time_ns()
    assert request.market_receive_ts_ns == cause.receive_ts_ns


def test_a_kill_switch_read_between_batches_turns_the_next_intent_into_a_rejection(kafka_bootstrap) -> None:
    daemon = chain(kafka_bootstrap)
    daemon.on_side_input(daemon.risk.topics.controls, [RiskControl("account:main", True, "drill", "test", time.time_ns())])
    outputs = list(daemon.handle([RecordedMessage("md.trade", 0, encode(trade(100_01, 1, 1)))]))  # type: ignore[list-item]
    assert [o.topic for o in outputs] == ["strat.intent", "risk.rejection"]
    rejection = _decoded(outputs[1].value)
    assert isinstance(rejection, RiskRejection) and rejection.rule == "kill_switch"


def test_an_intent_already_let_through_is_not_requested_twice(kafka_bootstrap) -> None:
    """A replayed event (after a restart) makes the same intent; risk answers with the same request,
    whose client order id execution deduplicates, and counts it once."""
    daemon = chain(kafka_bootstrap)
    message = RecordedMessage("md.trade", 0, encode(trade(100_01, 1, 1)))
    first = [_decoded(o.value) for o in daemon.handle([message])]  # type: ignore[list-item]
    daemon.fanout.deployments["counter"].driver.strategy.count.trades = 0  # type: ignore[attr-defined]
    again = [_decoded(o.value) for o in daemon.handle([message])]  # type: ignore[list-item]
    assert isinstance(first[1], OrderRequest) and isinstance(again[1], OrderRequest)
    assert again[1].client_order_id == first[1].client_order_id
    assert daemon.risk.engine.exposure.open_order_count("main") == 1
