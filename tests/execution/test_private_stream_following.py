"""The execution daemon follows its orders by each venue's private stream, with REST polling as the
fallback — on the simulator's Binance, OKX and Kraken, a real broker and a real PostgreSQL.

A resting buy is filled later by a simulated seller walking the book through its price: with
polling effectively off the order still reaches ``filled`` with its fills (the stream drove it);
with the stream dropped it reaches its end by REST, and after the reconnect no fill is counted twice.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal

import msgspec
import pytest
from confluent_kafka import Message, Producer
from prometheus_client import generate_latest

from platform_streams.database.migrate import migrate
from platform_streams.execution.daemon import ExecutionDaemon, ExecutionSettings, ExecutionTopics
from platform_streams.kafka_clients import ProducerProfile, producer_settings
from platform_streams.runtime import Output
from platform_streams.schemas import Fill, OrderEvent, OrderRequest, OrderStatus, TypedDecoder
from platform_streams.simulator import DEFAULT_API_KEY, SimulatorThread
from tests.execution.test_ccxt_order_entry import order
from tests.execution.test_venue_order_entry import venue_market
from tests.kafka_helpers import DaemonThread, read_until
from tests.simulator.conftest import make_config
from tests.sinks.sink_harness import fetch
from tests.waiting import wait_until

EVENTS, FILLS = TypedDecoder(OrderEvent), TypedDecoder(Fill)


@pytest.fixture(params=["binance", "okx", "kraken"])
def venue(request: pytest.FixtureRequest) -> Iterator[tuple[str, SimulatorThread]]:
    with SimulatorThread(make_config(exchanges=[request.param])) as sim:
        yield request.param, sim


class Harness:
    """One execution daemon on one simulated venue: send orders, fill them, read what came out."""

    def __init__(self, name: str, sim: SimulatorThread, kafka_bootstrap: str, topic_factory, database_url: str, **settings) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
        migrate(database_url)
        self.name, self.sim, self.bootstrap, self.database_url = name, sim, kafka_bootstrap, database_url
        self.requests = topic_factory("req")
        self.topics = ExecutionTopics(
            order_events=topic_factory("evt"), fills=topic_factory("fill"), positions=topic_factory("pos")
        )
        self.symbol, self.price_scale, self.size_scale, self.price, self.size = venue_market(name, sim, Decimal("0.99"))
        self.daemon = ExecutionDaemon(
            ExecutionSettings(
                name=f"exec-{name}", bootstrap_servers=kafka_bootstrap, metrics_port=-1, inputs=[self.requests],
                account="sim", exchange=name, rest_url=sim.urls[name].rest, ws_url=sim.urls[name].websocket,
                simulator_keys=True, database_url=database_url, topics=self.topics, **settings,
            )
        )  # fmt: skip
        self._producer = Producer(producer_settings(kafka_bootstrap, ProducerProfile.LATENCY))

    def resting_buy(self, client_order_id: str) -> OrderRequest:
        """A limit buy 1 % below the best bid (it rests), sent to the daemon."""
        request = msgspec.structs.replace(
            order(client_order_id, self.symbol, self.price_scale, self.size_scale, self.price, self.size), exchange=self.name
        )
        out = Output.event(self.requests, request)
        self._producer.produce(out.topic, out.value, out.key)
        assert self._producer.flush(30) == 0
        return request

    def sell_through(self) -> None:
        """A simulated seller walks the bids down to the orders' price: they fill (as makers)."""
        venue = self.sim.simulator.venues[self.name]
        spec = next(i for i in venue.market.instruments if i.symbol == self.symbol)
        ticks = self.price * 10**8 // (10**self.price_scale * spec.tick)
        self.sim.call(venue.market.execute_taker, spec.index, False, spec.max_lots, ticks, time.time_ns())

    def events(self, done) -> list[OrderEvent]:  # type: ignore[no-untyped-def]
        return [
            EVENTS.decode(m.value())
            for m in read_until(self.bootstrap, self.topics.order_events, lambda got: done(_decoded(got)))
        ]

    def wait_status(self, client_order_id: str, status: OrderStatus) -> list[OrderEvent]:
        return self.events(lambda events: any(e.client_order_id == client_order_id and e.status is status for e in events))

    def fills(self, count: int) -> list[Fill]:
        return [FILLS.decode(m.value()) for m in read_until(self.bootstrap, self.topics.fills, lambda got: len(got) >= count)]

    def exchange_fills(self) -> int:
        venue = self.sim.simulator.venues[self.name]
        return len(self.sim.call(lambda: venue.engine.all_fills(venue.accounts.get(DEFAULT_API_KEY))))

    def updates(self, source: str) -> float:
        metrics = generate_latest(self.daemon.metrics.registry).decode()
        line = f'platform_execution_order_updates_total{{daemon="exec-{self.name}",source="{source}"}} '
        return next((float(row.removeprefix(line)) for row in metrics.splitlines() if row.startswith(line)), 0.0)

    def stream_up(self) -> bool:
        return self.daemon._plan.stream_up  # noqa: SLF001 - the daemon's view of its stream

    def close(self) -> None:
        self._producer.flush(10)


def _decoded(messages: list[Message]) -> list[OrderEvent]:
    return [EVENTS.decode(m.value()) for m in messages]


@pytest.mark.e2e
def test_the_private_stream_drives_orders_to_filled_with_polling_off(
    venue: tuple[str, SimulatorThread], kafka_bootstrap: str, topic_factory, database_url: str
) -> None:
    name, sim = venue
    harness = Harness(name, sim, kafka_bootstrap, topic_factory, database_url, poll_interval_s=3600, stream_quiet_s=3600)
    with DaemonThread(harness.daemon):
        wait_until(harness.stream_up, 30, "the private stream subscribed")
        request = harness.resting_buy("a1" * 16)
        harness.wait_status(request.client_order_id, OrderStatus.NEW)
        harness.sell_through()
        events = harness.wait_status(request.client_order_id, OrderStatus.FILLED)
        fills = harness.fills(1)
        wait_until(lambda: sum(f.size for f in harness.fills(1)) == harness.size, 30, "every fill published")
        fills = harness.fills(1)
    mine = [e for e in events if e.client_order_id == request.client_order_id]
    assert [e.sequence for e in mine] == list(range(1, len(mine) + 1)) and mine[-1].filled_size == harness.size
    assert mine[0].status is OrderStatus.NEW  # the placement's answer: what came after, only the stream said
    assert len({f.fill_id for f in fills}) == len(fills) == harness.exchange_fills()
    assert harness.updates("rest") == 0 and harness.updates("stream") > 0  # REST never asked: the stream said it all
    stored = fetch(
        database_url, "SELECT count(*) AS n, sum(size) AS s FROM fills WHERE client_order_id = $1", request.client_order_id
    )
    assert stored[0]["n"] == len(fills) and stored[0]["s"] * 10**harness.size_scale == harness.size
    harness.close()


@pytest.mark.e2e
def test_with_the_stream_dropped_orders_end_by_rest_and_no_fill_counts_twice(
    kafka_bootstrap: str, topic_factory, database_url: str
) -> None:
    with SimulatorThread(make_config(exchanges=["okx"])) as sim:
        harness = Harness(
            "okx", sim, kafka_bootstrap, topic_factory, database_url, poll_interval_s=0.2, stream_quiet_s=3600,
            stream_reconnect_s=3.0,
        )  # fmt: skip
        venue = sim.simulator.venues["okx"]
        with DaemonThread(harness.daemon):
            wait_until(harness.stream_up, 30, "the private stream subscribed")
            before = harness.resting_buy("b1" * 16)
            harness.wait_status(before.client_order_id, OrderStatus.NEW)
            harness.sell_through()
            harness.wait_status(before.client_order_id, OrderStatus.FILLED)
            assert harness.updates("rest") == 0

            during = harness.resting_buy("b2" * 16)
            harness.wait_status(during.client_order_id, OrderStatus.NEW)
            sim.call(venue.user_stream.close_connections)
            wait_until(lambda: not harness.stream_up(), 30, "the daemon to see its stream lost")
            harness.sell_through()
            harness.wait_status(during.client_order_id, OrderStatus.FILLED)  # by REST: the stream is away
            assert harness.updates("rest") > 0

            wait_until(harness.stream_up, 60, "the private stream subscribed again")
            rest_before = harness.updates("rest")
            after = harness.resting_buy("b3" * 16)
            harness.wait_status(after.client_order_id, OrderStatus.NEW)
            harness.sell_through()
            harness.wait_status(after.client_order_id, OrderStatus.FILLED)
            total = harness.exchange_fills()
            fills = harness.fills(total)
            wait_until(lambda: len(harness.fills(total)) >= total, 30, "every fill published")
            fills = harness.fills(total)
            assert harness.updates("rest") == rest_before  # once back, the stream drives again
        metrics = generate_latest(harness.daemon.metrics.registry).decode()
        assert 'platform_execution_private_stream_reconnects_total{daemon="exec-okx"} 1.0' in metrics
        harness.close()
    assert not [fill_id for fill_id, n in Counter(f.fill_id for f in fills).items() if n > 1]  # published once each
    sizes = Counter()
    for fill in fills:
        sizes[fill.client_order_id] += fill.size
    assert sizes == {r.client_order_id: harness.size for r in (before, during, after)}
    stored = fetch(database_url, "SELECT client_order_id, count(*) AS n FROM fills GROUP BY client_order_id")
    assert sum(row["n"] for row in stored) == len(fills) == total
