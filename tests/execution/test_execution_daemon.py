"""The execution daemon with a real broker, a real PostgreSQL and the simulator's Binance: order
requests in, order events, fills and positions out, each order at the exchange once."""

from __future__ import annotations

import time
from collections.abc import Iterator

import msgspec
import pytest
from confluent_kafka import Producer
from prometheus_client import generate_latest

from platform_streams.database.migrate import migrate
from platform_streams.execution.daemon import ExecutionDaemon, ExecutionSettings, ExecutionTopics, PaperSettings
from platform_streams.kafka_clients import ProducerProfile, producer_settings
from platform_streams.runtime import Output
from platform_streams.schemas import (
    BestBidOffer,
    Fill,
    Hop,
    OrderEvent,
    OrderStatus,
    OrderType,
    Position,
    Side,
    Trade,
    TypedDecoder,
)
from platform_streams.settings import ConfigError
from platform_streams.simulator import SimulatorThread
from tests.execution.test_ccxt_order_entry import order, requests_for
from tests.kafka_helpers import DaemonThread, read_until
from tests.simulator.conftest import make_config
from tests.waiting import wait_until


@pytest.fixture
def simulator() -> Iterator[SimulatorThread]:
    with SimulatorThread(make_config(exchanges=["binance"])) as sim:
        yield sim


def test_requests_become_orders_at_the_exchange_and_events_fills_positions(
    simulator: SimulatorThread, kafka_bootstrap: str, topic_factory, database_url: str
) -> None:
    migrate(database_url)
    requests, events, fills, positions = (topic_factory(n) for n in ("req", "evt", "fill", "pos"))
    symbol, price_scale, size_scale, price, size = requests_for(simulator)
    settings = ExecutionSettings(
        name="exec-test", bootstrap_servers=kafka_bootstrap, metrics_port=-1, inputs=[requests], account="sim",
        exchange="binance", rest_url=simulator.urls["binance"].rest, simulator_keys=True, database_url=database_url,
        poll_interval_s=0.2, topics=ExecutionTopics(order_events=events, fills=fills, positions=positions),
    )  # fmt: skip
    producer = Producer(producer_settings(kafka_bootstrap, ProducerProfile.LATENCY))
    resting = order("d-rest", symbol, price_scale, size_scale, price, size)
    now = time.time_ns()
    market = msgspec.structs.replace(
        order("d-mkt", symbol, price_scale, size_scale, None, size),
        market_receive_ts_ns=now - 5_000_000,
        hops=[Hop("strategy", now - 4_000_000, now - 3_000_000)],
    )  # its latency trace: received 5 ms ago, a strategy decided 1 ms later
    other_account = msgspec.structs.replace(order("d-other", symbol, price_scale, size_scale, None, size), account="x")
    for request in (resting, market, other_account, resting):  # the resting order's request twice
        out = Output.event(requests, request)
        producer.produce(out.topic, out.value, out.key)
    producer.produce(requests, b"not an order request", b"sim")
    assert producer.flush(30) == 0

    daemon = ExecutionDaemon(settings)
    with DaemonThread(daemon):
        wanted = {("d-rest", OrderStatus.NEW), ("d-mkt", OrderStatus.FILLED)}

        def statuses(got: list) -> set[tuple[str, OrderStatus]]:
            return {(e.client_order_id, e.status) for e in (TypedDecoder(OrderEvent).decode(m.value()) for m in got)}

        got = read_until(kafka_bootstrap, events, lambda got: statuses(got) >= wanted)
        assert statuses(got) >= wanted
        # the repeated request republishes the resting order's state: the same event id, deduped downstream
        resting_ids = {
            e.event_id for e in (TypedDecoder(OrderEvent).decode(m.value()) for m in got) if e.client_order_id == "d-rest"
        }
        assert resting_ids == {"order_event:d-rest:1"}
        fill_records = read_until(
            kafka_bootstrap, fills, lambda got: sum(TypedDecoder(Fill).decode(m.value()).size for m in got) >= size
        )
        assert {TypedDecoder(Fill).decode(m.value()).client_order_id for m in fill_records} == {"d-mkt"}
        (position,) = [
            TypedDecoder(Position).decode(m.value()) for m in read_until(kafka_bootstrap, positions, lambda got: len(got) >= 1)
        ][-1:]
        assert (position.account, position.symbol) == ("sim", symbol) and position.size * 10 ** (
            size_scale - position.size_scale
        ) == size

    metrics = generate_latest(daemon.metrics.registry).decode()
    assert 'platform_execution_tick_to_sent_seconds_count{daemon="exec-test"} 1.0' in metrics
    assert 'platform_execution_stage_seconds_count{daemon="exec-test",stage="strategy"} 1.0' in metrics
    assert 'platform_execution_ack_seconds_count{daemon="exec-test"} 2.0' in metrics  # both orders sent
    arrivals = [o.client_order_id for o in simulator.ground_truth.orders("binance")]
    assert sorted(arrivals) == ["d-mkt", "d-rest"]  # once each; the other account's request is not ours


def test_a_venue_without_order_entry_or_missing_keys_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="'coinbase' has no order entry; venues that trade: binance"):
        ExecutionSettings(name="x", account="a", exchange="coinbase")
    monkeypatch.delenv("TRADEPLAT_MAIN_1_API_KEY", raising=False)
    with pytest.raises(ConfigError, match="TRADEPLAT_MAIN_1_API_KEY, TRADEPLAT_MAIN_1_API_SECRET"):
        ExecutionSettings(name="x", account="main-1", exchange="binance").credentials()
    monkeypatch.setenv("TRADEPLAT_MAIN_1_API_KEY", "k")
    monkeypatch.setenv("TRADEPLAT_MAIN_1_API_SECRET", "s")
    assert ExecutionSettings(name="x", account="main-1", exchange="binance").credentials() == {"apiKey": "k", "secret": "s"}
    # the private stream: on the simulator's host unless told otherwise (never the real venue's from a test)
    assert ExecutionSettings(name="x", account="a", exchange="okx", rest_url="http://127.0.0.1:5").ws_url == "ws://127.0.0.1:5"
    with pytest.raises(ConfigError, match="stream_quiet_s: must be positive"):
        ExecutionSettings(name="x", account="a", exchange="okx", stream_quiet_s=0)


def test_paper_mode_fills_against_the_market_data_it_reads(kafka_bootstrap: str, topic_factory, database_url: str) -> None:
    migrate(database_url)
    requests, trades, quotes, events, fills, positions = (topic_factory(n) for n in ("req", "trd", "bbo", "evt", "fill", "pos"))
    settings = ExecutionSettings(
        name="paper-test", bootstrap_servers=kafka_bootstrap, metrics_port=-1, inputs=[requests], account="paper-1",
        exchange="okx", mode="paper", paper=PaperSettings(trade_topic=trades, bbo_topic=quotes, maker_fee_bps=1, taker_fee_bps=5),
        database_url=database_url, topics=ExecutionTopics(order_events=events, fills=fills, positions=positions),
    )  # fmt: skip
    assert settings.inputs == [requests, trades, quotes]
    producer = Producer(producer_settings(kafka_bootstrap, ProducerProfile.LATENCY))

    def send(topic: str, event: object) -> None:
        out = Output.event(topic, event)
        producer.produce(out.topic, out.value, out.key)
        assert producer.flush(30) == 0

    base = msgspec.structs.replace(order("p-mkt", "BTC/USDT", 2, 3, None, 2_000), account="paper-1", exchange="okx")
    resting = msgspec.structs.replace(
        base, client_order_id="p-rest", order_type=OrderType.LIMIT, side=Side.SELL, price=10_020, size=1_000
    )
    daemon = ExecutionDaemon(settings)
    paper = daemon._paper  # noqa: SLF001 - the venue it fills against: the test waits until it saw the market
    assert paper is not None
    with DaemonThread(daemon):
        send(quotes, BestBidOffer("okx", "BTC/USDT", 1, 1, 1, 10_000, 3_000, 10_010, 3_000, 2, 3))
        send(quotes, BestBidOffer("binance", "BTC/USDT", 1, 1, 1, 5, 1, 6, 1, 2, 3))  # another exchange: ignored
        wait_until(lambda: "BTC/USDT" in paper._quotes, 60, "the paper venue to see the quote")  # noqa: SLF001
        send(requests, base)
        send(requests, resting)
        wait_until(lambda: paper.order("p-rest") is not None, 60, "the resting order placed")
        send(trades, Trade("okx", "BTC/USDT", 2, 2, 2, "t-1", Side.BUY, 10_030, 1_000, 2, 3))  # through the resting sell
        got = read_until(
            kafka_bootstrap,
            events,
            lambda got: (
                {TypedDecoder(OrderEvent).decode(m.value()).status for m in got} >= {OrderStatus.FILLED} and len(got) >= 3
            ),
        )
        statuses = [(e.client_order_id, e.status) for e in (TypedDecoder(OrderEvent).decode(m.value()) for m in got)]
        assert statuses == [("p-mkt", OrderStatus.FILLED), ("p-rest", OrderStatus.NEW), ("p-rest", OrderStatus.FILLED)]
        fill_events = [
            TypedDecoder(Fill).decode(m.value()) for m in read_until(kafka_bootstrap, fills, lambda got: len(got) >= 2)
        ]
        # the two orders' fills reach the topic in either order (the market order's may wait for a poll)
        assert {f.client_order_id: (f.price, f.size, f.liquidity.value) for f in fill_events} == {
            "p-mkt": (10_010, 2_000, "taker"), "p-rest": (10_020, 1_000, "maker"),
        }  # fmt: skip
        assert len(fill_events) == 2
        final = [
            TypedDecoder(Position).decode(m.value()) for m in read_until(kafka_bootstrap, positions, lambda got: len(got) >= 2)
        ][-1]
        assert (final.size, final.size_scale, final.realized_pnl, final.pnl_scale) == (
            1_000,
            3,
            10_000,
            5,
        )  # sold 1 of 2 at +0.10
