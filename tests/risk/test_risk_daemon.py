"""The risk daemon on the real broker: intents in, sized order requests and rejections out; the
kill switch stops new orders; a replica taking over an account counts the orders sent before it."""

from __future__ import annotations

import time
from collections.abc import Callable

import msgspec
from confluent_kafka import Consumer

from platform_streams.kafka_clients import consumer_settings
from platform_streams.risk.client_order_id import client_order_id
from platform_streams.risk.daemon import RiskDaemon, RiskSettings, RiskTopics
from platform_streams.risk.limits import Limits, RiskLimitsSettings
from platform_streams.schemas import OrderRequest, RiskControl, RiskRejection, Side, decode
from tests.kafka_helpers import DaemonThread, produce_events
from tests.risk.factories import BTC, bbo, fill, intent
from tests.waiting import wait_until

LIMITS = RiskLimitsSettings(
    default=Limits(
        max_position_notional="100000", max_order_notional="10000", max_open_orders=10, price_band_bps=100, max_daily_loss="1000"
    ),
    accounts={"solo": Limits(max_open_orders=1)},
)


class TopicReader:
    """Follows some topics from their start, decoding every record."""

    def __init__(self, bootstrap: str, topics: list[str]) -> None:
        self._consumer = Consumer(consumer_settings(bootstrap, f"risk-reader-{time.time_ns()}"))
        self._consumer.subscribe(topics)
        self.events: list[object] = []

    def read(self) -> list[object]:
        for message in self._consumer.consume(500, 0.1):
            if message.error() is None:
                self.events.append(decode(message.value()))
        return self.events

    def of(self, kind: type) -> list:
        return [event for event in self.read() if isinstance(event, kind)]

    def close(self) -> None:
        self._consumer.close()


def make_settings(bootstrap: str, intents: str, topics: RiskTopics, group: str) -> RiskSettings:
    return RiskSettings(
        name="risk-test", group=group, bootstrap_servers=bootstrap, inputs=[intents], metrics_port=-1,
        topics=topics, limits=LIMITS, side_input_wait_s=10.0,
    )  # fmt: skip


def start_with_mid(bootstrap: str, settings: RiskSettings) -> DaemonThread:
    """Start a risk daemon and feed top of book until it knows BTC's mid (it reads md.bbo from start-up on)."""
    thread = DaemonThread(RiskDaemon(settings)).__enter__()
    daemon: RiskDaemon = thread.daemon  # type: ignore[assignment]
    sequence = iter(range(1, 10**6))
    wait_until(
        lambda: daemon.engine.exposure.mid(BTC.key) is not None,
        30,
        "the risk daemon to read a mid",
        between=lambda: produce_events(bootstrap, settings.topics.top_of_book, [bbo(1_999_900, 2_000_100, next(sequence))]),
        interval_s=0.2,
    )
    return thread


def make_topics(topic_factory: Callable[..., str]) -> tuple[str, RiskTopics]:
    names = {n: topic_factory(n) for n in ("intent", "request", "reject", "control", "instr", "fill", "event", "bbo", "deploy")}
    topics = RiskTopics(
        order_requests=names["request"], rejections=names["reject"], controls=names["control"], instruments=names["instr"],
        fills=names["fill"], order_events=names["event"], top_of_book=names["bbo"], deployments=names["deploy"],
    )  # fmt: skip
    return names["intent"], topics


def test_intents_become_requests_or_rejections_and_the_kill_switch_stops_new_orders(kafka_bootstrap, topic_factory) -> None:
    intents, topics = make_topics(topic_factory)
    produce_events(kafka_bootstrap, topics.instruments, [BTC])
    produce_events(
        kafka_bootstrap, topics.fills, [fill("f1", Side.BUY, 2_000_000, 1_000, deployment="ema-btc")]
    )  # long 0.1 already
    reader = TopicReader(kafka_bootstrap, [topics.order_requests, topics.rejections])
    thread = start_with_mid(kafka_bootstrap, make_settings(kafka_bootstrap, intents, topics, f"risk-{time.time_ns()}"))
    try:
        assert thread.daemon.engine.exposure.mid(BTC.key) == 20_000  # type: ignore[attr-defined]
        produce_events(
            kafka_bootstrap,
            intents,
            [
                intent("i-1", 3_000),  # to 0.3 from 0.1 held: buy 0.2 at 20000.00
                intent("i-2", 3_000),  # the open order already gets there: nothing
                intent("i-3", 10_000, deployment="big"),  # 1 BTC = 20000 > 10000 notional
                intent("i-4", 1_000, 2_100_000, deployment="far"),  # 5 % from the mid, band 1 %
            ],
        )
        wait_until(lambda: len(reader.of(RiskRejection)) == 2 and reader.of(OrderRequest), 30, "one request and two rejections")
        [request] = reader.of(OrderRequest)
        assert request.client_order_id == client_order_id("ema-btc", "i-1")
        assert (request.account, request.side, request.price, request.size, request.price_scale, request.size_scale) == (
            "main",
            Side.BUY,
            2_000_000,
            2_000,
            2,
            4,
        )
        assert request.hops[-1].stage == "risk"
        assert {(r.intent_id, r.rule) for r in reader.of(RiskRejection)} == {("i-3", "max_order_notional"), ("i-4", "price_band")}

        daemon: RiskDaemon = thread.daemon  # type: ignore[assignment]
        produce_events(kafka_bootstrap, topics.controls, [RiskControl("account:main", True, "drill", "test", time.time_ns())])
        wait_until(lambda: daemon.engine.kill_switches.halted, 30, "the kill switch to be read")
        produce_events(kafka_bootstrap, intents, [intent(f"k-{n}", 1_000, deployment=f"d-{n}") for n in range(5)])
        wait_until(lambda: len(reader.of(RiskRejection)) == 7, 30, "five kill-switch rejections")
        assert {r.rule for r in reader.of(RiskRejection) if r.intent_id.startswith("k-")} == {"kill_switch"}
        assert len(reader.of(OrderRequest)) == 1  # no new order once the switch was read

        produce_events(
            kafka_bootstrap, topics.controls, [RiskControl("account:main", False, "drill over", "test", time.time_ns())]
        )
        wait_until(lambda: not daemon.engine.kill_switches.halted, 30, "the kill switch to be released")
        produce_events(kafka_bootstrap, intents, [intent("r-1", 1_000, deployment="after")])
        wait_until(lambda: len(reader.of(OrderRequest)) == 2, 30, "an order after the release")
    finally:
        thread.stop()
        reader.close()


def test_a_replica_taking_over_an_account_counts_the_orders_sent_before_it(kafka_bootstrap, topic_factory) -> None:
    intents, topics = make_topics(topic_factory)
    produce_events(kafka_bootstrap, topics.instruments, [BTC])
    reader = TopicReader(kafka_bootstrap, [topics.order_requests, topics.rejections])
    group = f"risk-{time.time_ns()}"
    first = start_with_mid(kafka_bootstrap, make_settings(kafka_bootstrap, intents, topics, group))
    try:
        produce_events(kafka_bootstrap, intents, [intent("s-1", 1_000, account="solo")])
        wait_until(lambda: reader.of(OrderRequest), 30, "the first replica's order")
    finally:
        first.stop()
    second = start_with_mid(kafka_bootstrap, make_settings(kafka_bootstrap, intents, topics, group))
    try:
        # account "solo" may have one open order: the first replica's, which the second must count
        produce_events(kafka_bootstrap, intents, [intent("s-2", 1_000, account="solo", deployment="other")])
        wait_until(lambda: reader.of(RiskRejection), 30, "the second replica's decision")
        [rejection] = reader.of(RiskRejection)
        assert (rejection.intent_id, rejection.rule) == ("s-2", "max_open_orders")
        assert len(reader.of(OrderRequest)) == 1
    finally:
        second.stop()
        reader.close()


def test_two_replicas_never_let_through_more_than_an_account_s_limit(kafka_bootstrap, topic_factory) -> None:
    intents, topics = make_topics(topic_factory)
    produce_events(kafka_bootstrap, topics.instruments, [BTC])
    reader = TopicReader(kafka_bootstrap, [topics.order_requests, topics.rejections])
    group = f"risk-{time.time_ns()}"
    accounts = [f"acc-{n}" for n in range(6)]
    limits = RiskLimitsSettings(default=Limits(max_order_notional="100000", max_open_orders=3, price_band_bps=100))

    def settings() -> RiskSettings:
        return msgspec.structs.replace(make_settings(kafka_bootstrap, intents, topics, group), limits=limits)

    def wave(name: str) -> list:
        return [intent(f"{name}-{a}-{n}", 100, account=a, deployment=f"{name}-{a}-{n}") for a in accounts for n in range(5)]

    first = start_with_mid(kafka_bootstrap, settings())
    second: DaemonThread | None = None
    try:
        produce_events(kafka_bootstrap, intents, wave("w1"))
        wait_until(lambda: len(reader.read()) == 30, 30, "the first replica's 30 decisions")
        second = start_with_mid(kafka_bootstrap, settings())
        both = (first.daemon, second.daemon)
        wait_until(lambda: all(d._assigned for d in both), 60, "both replicas to own partitions")  # type: ignore[attr-defined]
        produce_events(kafka_bootstrap, intents, wave("w2"))
        wait_until(lambda: len(reader.read()) == 60, 60, "60 decisions from the two replicas")
        assert second.daemon.messages_in > 0  # type: ignore[attr-defined]
        for account in accounts:
            requests = [r for r in reader.of(OrderRequest) if r.account == account]
            rejections = [r for r in reader.of(RiskRejection) if r.account == account]
            assert len(requests) == 3, account
            assert {r.rule for r in rejections} == {"max_open_orders"} and len(rejections) == 7
    finally:
        first.stop()
        if second is not None:
            second.stop()
        reader.close()


def test_under_a_flow_of_intents_no_order_is_decided_after_the_kill_switch(kafka_bootstrap, topic_factory) -> None:
    intents, topics = make_topics(topic_factory)
    produce_events(kafka_bootstrap, topics.instruments, [BTC])
    reader = TopicReader(kafka_bootstrap, [topics.order_requests, topics.rejections])
    flow = msgspec.structs.replace(LIMITS, accounts={"flow": Limits(max_open_orders=100_000)})
    settings = make_settings(kafka_bootstrap, intents, topics, f"risk-{time.time_ns()}")
    thread = start_with_mid(kafka_bootstrap, msgspec.structs.replace(settings, limits=flow))
    try:
        produce_events(kafka_bootstrap, intents, [intent(f"a-{n}", 10, account="flow", deployment=f"a-{n}") for n in range(100)])
        # the halt lands while those are being decided, and intents keep coming after it
        produce_events(
            kafka_bootstrap, topics.controls, [RiskControl("account:flow", True, "flow drill", "test", time.time_ns())]
        )
        later = [intent(f"b-{n}", 10, account="flow", deployment=f"b-{n}") for n in range(200)]
        produce_events(kafka_bootstrap, intents, later, rate=200)
        wait_until(lambda: len(reader.read()) == 300, 60, "a decision for each of 300 intents")
        orders, halts = reader.of(OrderRequest), [r for r in reader.of(RiskRejection) if r.rule == "kill_switch"]
        assert orders and halts and len(orders) + len(halts) == 300
        assert max(o.created_ts_ns for o in orders) < min(h.decided_ts_ns for h in halts)  # never an order after a halt
    finally:
        thread.stop()
        reader.close()
