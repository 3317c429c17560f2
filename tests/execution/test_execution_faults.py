"""Execution's fault tests (issue 11): kill -9 with orders in flight (after a restart no client order
id reached the simulator twice, every request became an order, every fill is accounted for in
PostgreSQL exactly); a 429 storm (delayed, none lost, no 418); the kill switch (no new order after
the batch in flight, resting ones withdrawn)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import ccxt
import msgspec
import pytest
from confluent_kafka import Producer

from platform_streams.database.migrate import migrate
from platform_streams.exchanges.limits import LimitOverride
from platform_streams.execution.daemon import ExecutionDaemon, ExecutionSettings, ExecutionTopics
from platform_streams.kafka_clients import ProducerProfile, producer_settings
from platform_streams.runtime import Output
from platform_streams.schemas import OrderRequest, RiskControl, Side
from platform_streams.simulator import SimulatorThread
from tests.execution.test_ccxt_order_entry import order, requests_for
from tests.kafka_helpers import DaemonThread, produce_events
from tests.simulator.conftest import ccxt_options, make_config
from tests.sinks.sink_harness import fetch
from tests.waiting import wait_until

ORDERS = 120


@pytest.fixture
def simulator() -> Iterator[SimulatorThread]:
    with SimulatorThread(make_config(exchanges=["binance"])) as sim:
        yield sim


@pytest.mark.e2e
def test_kill_9_with_orders_in_flight_sends_nothing_twice_and_accounts_every_fill(
    simulator: SimulatorThread, kafka_bootstrap: str, topic_factory, database_url: str, tmp_path: Path
) -> None:
    migrate(database_url)
    requests = topic_factory("req", 1)
    symbol, price_scale, size_scale, price, size = requests_for(simulator)
    # alternately a market buy (fills at once) and a resting limit buy well below the market
    batch = [
        msgspec.structs.replace(
            order(f"k9-{i}", symbol, price_scale, size_scale, None if i % 2 else price, size, Side.BUY), created_ts_ns=i
        )
        for i in range(ORDERS)
    ]
    values = {
        "name": "exec-k9", "metrics_port": -1, "inputs": [requests], "account": "sim", "exchange": "binance",
        "rest_url": simulator.urls["binance"].rest, "simulator_keys": True, "database_url": database_url,
        "batch_max": 5, "group": f"exec-k9-{os.getpid()}",
        "topics": {k: topic_factory(k) for k in ("order_events", "fills", "positions")},
    }  # fmt: skip
    command = [sys.executable, "-m", "platform_streams.cli.main", "daemon", "execution", "--values-json", json.dumps(values)]
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap}
    producer = Producer(producer_settings(kafka_bootstrap, ProducerProfile.LATENCY))
    for request in batch:
        out = Output.event(requests, request)
        producer.produce(out.topic, out.value, out.key)
    assert producer.flush(30) == 0

    with open(tmp_path / "execution.log", "wb") as log:
        first = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until(lambda: len(simulator.ground_truth.orders("binance")) >= ORDERS // 3, 120, "orders in flight")
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
            second = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
            try:
                wait_until(
                    lambda: fetch(database_url, "SELECT count(*) AS n FROM orders WHERE status <> 'pending'")[0]["n"] == ORDERS,
                    180, "every order acknowledged in the record", interval_s=0.5,
                )  # fmt: skip
            finally:
                second.send_signal(signal.SIGTERM)
                assert second.wait(timeout=60) == 0
        finally:
            if first.poll() is None:
                first.kill()

    arrivals = Counter(a.client_order_id for a in simulator.ground_truth.orders("binance"))
    assert set(arrivals) == {r.client_order_id for r in batch}
    assert max(arrivals.values()) == 1, [c for c, n in arrivals.items() if n > 1]  # no client order id twice
    # every market order filled, and its fills are all stored: the filled size equals the sum of its fills
    rows = fetch(database_url, """
        SELECT o.client_order_id, o.status, o.filled_size, coalesce(sum(f.size), 0) AS fills
        FROM orders o LEFT JOIN fills f USING (client_order_id) GROUP BY 1, 2, 3""")  # fmt: skip
    by_id = {row["client_order_id"]: row for row in rows}
    for i, request in enumerate(batch):
        row = by_id[request.client_order_id]
        # a market order fills; a resting buy at half the bid stays open unless the simulated flow
        # swept that deep (a loaded CI run saw one market sell take it): either way, accounted for
        assert row["status"] in (("filled",) if i % 2 else ("new", "partially_filled", "filled")), row
        assert row["filled_size"] == row["fills"], row
    assert any(by_id[r.client_order_id]["status"] == "new" for r in batch[::2])  # resting ones are known open


@pytest.mark.e2e
def test_a_429_storm_delays_orders_loses_none_and_never_earns_a_418(
    kafka_bootstrap: str, topic_factory, database_url: str
) -> None:
    """A request-weight budget far below what the orders need: the exchange answers 429 with
    Retry-After again and again; the daemon waits as told, and every order is placed once. The
    daemon's own request budget is told limits far above the simulator's (as when the weight is
    spent by someone it does not see), so the storm comes."""
    migrate(database_url)
    # 30 weight per 10 s: the test's own look at the market (25) fits, the daemon's (20) does not, and
    # 40 orders (1 each) take 2 windows at least: a storm at any pace above 3 orders a second, however loaded the machine
    limits = {"rest": {"request_weight": 30, "request_weight_interval_s": 10, "rejections_before_ban": 3}}
    with SimulatorThread(make_config(exchanges=["binance"], binance=limits)) as sim:
        symbol, price_scale, size_scale, _, size = requests_for(sim)
        requests = topic_factory("req", 1)
        orders = [order(f"storm-{i}", symbol, price_scale, size_scale, None, size) for i in range(40)]
        settings = ExecutionSettings(
            name="exec-storm", bootstrap_servers=kafka_bootstrap, metrics_port=-1, inputs=[requests], account="sim",
            exchange="binance", rest_url=sim.urls["binance"].rest, simulator_keys=True, database_url=database_url,
            batch_max=100, topics=ExecutionTopics(**{k: topic_factory(k) for k in ("order_events", "fills", "positions")}),
            budget_limits={"rest": LimitOverride(60_000, window_s=60), "orders": LimitOverride(10_000, window_s=10)},
            private_stream=False,  # REST alone: the in-process simulator's stream pushes would slow the orders under the budget
        )  # fmt: skip
        producer = Producer(producer_settings(kafka_bootstrap, ProducerProfile.LATENCY))
        for request in orders:
            out = Output.event(requests, request)
            producer.produce(out.topic, out.value, out.key)
        assert producer.flush(30) == 0
        daemon = ExecutionDaemon(settings)
        with DaemonThread(daemon):
            wait_until(
                lambda: fetch(database_url, "SELECT count(*) AS n FROM orders WHERE status = 'filled'")[0]["n"] == len(orders),
                180, "every order filled", interval_s=0.5,
            )  # fmt: skip
            # the pipelined orders' events are published outside a batch: they count as the daemon's output
            wait_until(lambda: daemon.messages_out >= len(orders), 30, "the orders' events counted as output")
        refusals = sim.call(lambda: dict(sim.simulator.venues["binance"].limiter.refusals))
    assert refusals.get(429, 0) > 0 and refusals.get(418, 0) == 0, refusals
    accepted = Counter(a.client_order_id for a in sim.ground_truth.orders("binance") if a.error_code == 0)
    assert accepted == {o.client_order_id: 1 for o in orders}


@pytest.mark.e2e
def test_a_kill_switch_lets_no_new_order_out_after_the_batch_in_flight_and_withdraws_resting_ones(
    simulator: SimulatorThread, kafka_bootstrap: str, topic_factory, database_url: str
) -> None:
    """Orders of two deployments flow; ``deployment:a`` is halted mid-flow on ``ctl.risk``. Of a's
    orders, those sent before the halt was read are withdrawn at the exchange and none later is
    sent (each is rejected with the halt's reason); b trades on untouched."""
    migrate(database_url)
    requests, controls = topic_factory("req", 1), topic_factory("ctl", 1)
    symbol, price_scale, size_scale, price, size = requests_for(simulator)

    def resting(name: str, deployment: str) -> OrderRequest:
        return msgspec.structs.replace(order(name, symbol, price_scale, size_scale, price, size), deployment=deployment)

    before = [resting(f"{d}-{i}", d) for i in range(10) for d in ("a", "b")]
    flow = [resting(f"{d}-{i}", d) for i in range(10, 40) for d in ("a", "b")]
    after = [resting(f"a-{i}", "a") for i in range(40, 45)]
    topics = ExecutionTopics(controls=controls, **{k: topic_factory(k) for k in ("order_events", "fills", "positions")})
    settings = ExecutionSettings(
        name="exec-halt", bootstrap_servers=kafka_bootstrap, metrics_port=-1, inputs=[requests], account="sim",
        exchange="binance", rest_url=simulator.urls["binance"].rest, simulator_keys=True, database_url=database_url,
        batch_max=5, topics=topics,
    )  # fmt: skip

    def statuses() -> dict[str, tuple[str, str]]:
        rows = fetch(database_url, "SELECT client_order_id, status, reason FROM orders")
        return {row["client_order_id"]: (row["status"], row["reason"]) for row in rows}

    with DaemonThread(ExecutionDaemon(settings)):
        produce_events(kafka_bootstrap, requests, before)
        wait_until(lambda: sum(s == "new" for s, _ in statuses().values()) == len(before), 120, "the first orders resting")
        halting = threading.Thread(
            target=lambda: produce_events(kafka_bootstrap, requests, flow, rate=100), name="order-flow"
        )  # fmt: skip
        halting.start()
        produce_events(kafka_bootstrap, controls, [RiskControl("deployment:a", True, "drill", "test", time.time_ns())])
        halting.join()
        wait_until(
            lambda: all(statuses().get(r.client_order_id, ("pending",))[0] in ("canceled", "rejected") for r in before if r.deployment == "a"),
            120, "a's resting orders withdrawn",
        )  # fmt: skip
        produce_events(kafka_bootstrap, requests, after)
        everything = before + flow + after
        wait_until(
            lambda: len([s for s, _ in statuses().values() if s != "pending"]) == len(everything), 120, "every request decided"
        )

    final, arrived = statuses(), Counter(a.client_order_id for a in simulator.ground_truth.orders("binance"))
    assert max(arrived.values()) == 1
    for request in everything:
        status, reason = final[request.client_order_id]
        if request.deployment == "b":
            assert (status, arrived[request.client_order_id]) == ("new", 1), request.client_order_id
        elif status == "rejected":  # refused at the door: never at the exchange
            assert reason == "kill switch deployment:a: drill" and request.client_order_id not in arrived
        else:  # sent before the halt was read: withdrawn since
            assert (status, arrived[request.client_order_id]) == ("canceled", 1), (request.client_order_id, status)
    assert all(final[r.client_order_id][0] == "rejected" for r in after)
    open_at_exchange = ccxt.binance(ccxt_options(simulator.urls["binance"].rest)).fetch_open_orders(symbol)
    assert sorted(o["clientOrderId"] for o in open_at_exchange) == sorted(
        r.client_order_id for r in before + flow if r.deployment == "b"
    )
