"""Broker restart mid-trading (issue 11's fault test): ``kill -9`` of the broker while orders flow
on all three simulated exchanges; the supervision `tradeplat up` runs brings it back on the same
port with its data. Afterwards no order was lost or sent twice (the simulator's order log: each
client order id once; every order request has an order at the simulator or a rejection), and the
positions in PostgreSQL still equal the simulator's accounts exactly."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from tests.trading.trading_harness import (
    LIVE_ACCOUNT,
    LIVE_EXCHANGES,
    assert_accounts_match,
    assert_every_request_answered,
    deployments_with_fills,
    halt_all_trading,
    live_deployments,
    supervised_servers,
    trading_pipeline,
)

RESTART_DELAY_S = 5.0  # the broker stays down this long: orders are in flight when it goes, and queue up meanwhile


@pytest.mark.e2e
@pytest.mark.timeout(1200)
def test_kill_9_of_the_broker_while_orders_flow_loses_no_order_and_sends_none_twice(tmp_path: Path) -> None:
    live = live_deployments()
    with supervised_servers(tmp_path / "servers", restart_delay_s=RESTART_DELAY_S) as (stack, connections, services):
        with trading_pipeline(connections, services, tmp_path) as pipeline:
            assert pipeline.sim is not None and stack.kafka is not None
            url = pipeline.database_url
            pipeline.wait_until(lambda: deployments_with_fills(url, LIVE_ACCOUNT) >= live, 420, "every live deployment trading")

            def orders_at_simulator() -> int:
                return sum(len(pipeline.sim.ground_truth.orders(exchange)) for exchange in LIVE_EXCHANGES)  # type: ignore[union-attr]

            before = orders_at_simulator()
            pipeline.wait_until(lambda: orders_at_simulator() > before, 60, "orders flowing")
            broker_pid, port = stack.kafka.pid, stack.kafka.port
            assert broker_pid is not None
            os.kill(broker_pid, signal.SIGKILL)
            killed = time.monotonic()
            pipeline.wait_until(lambda: services.get("kafka").state != "running", 10, "the supervisor to see the broker gone")
            pipeline.wait_until(lambda: services.get("kafka").state == "running", 300, "the broker to be back")
            assert time.monotonic() - killed >= RESTART_DELAY_S and stack.kafka.port == port and stack.kafka.pid != broker_pid
            pipeline.wait_until(lambda: pipeline.health().healthy, 300, "a healthy deployment after the broker outage")
            after = orders_at_simulator()
            pipeline.wait_until(lambda: orders_at_simulator() > after, 120, "orders flowing again after the restart")

            halt_all_trading(connections.kafka_bootstrap_servers)
            pipeline.run_market(2)
            assert_every_request_answered(pipeline)
            assert_accounts_match(pipeline)  # each client order id once at the simulator; positions exact
