"""One request budget per host, against the real simulator: two execution daemons (two accounts on one
Binance, one IP) placing orders faster than the account limit allows, and book snapshots through
ingestion's REST client, all asking one budget service. The simulator refuses nothing (no 429, no
418), every order arrives once and fills, every snapshot comes: the orders were delayed, not lost."""

from __future__ import annotations

import asyncio
from collections import Counter
from decimal import Decimal
from pathlib import Path

import ccxt
import msgspec
import pytest
from confluent_kafka import Producer
from prometheus_client import generate_latest

from platform_streams.database.migrate import migrate
from platform_streams.exchanges.limits import LimitOverride
from platform_streams.execution.daemon import ExecutionDaemon, ExecutionSettings, ExecutionTopics
from platform_streams.ingestion.rest_snapshots import RestSnapshotClient
from platform_streams.ingestion.snapshot_budget_client import SnapshotBudgetClient
from platform_streams.ingestion.snapshot_budget_daemon import SnapshotBudgetDaemon, SnapshotBudgetSettings
from platform_streams.kafka_clients import ProducerProfile, producer_settings
from platform_streams.runtime import Output
from platform_streams.simulator import DEFAULT_API_KEY, DEFAULT_API_SECRET, SimulatorThread
from platform_streams.simulator.config import DEFAULT_BALANCES
from tests.execution.test_ccxt_order_entry import order, scale_of
from tests.kafka_helpers import DaemonThread
from tests.simulator.conftest import ccxt_options, make_config
from tests.sinks.sink_harness import fetch
from tests.waiting import wait_until

ORDERS_PER_ACCOUNT = 30  # the simulated account limit is 10 per 2 s: three windows' worth at least
SNAPSHOTS = 30  # weight 5 each
SECOND_KEY, SECOND_SECRET = "secondAccountKey", "secondAccountSecret"
# The simulated Binance's limits, small so that a few seconds of traffic would pass them; the budget
# service is told the same (a real deployment keeps the venue's documented ones)
WEIGHT, WEIGHT_WINDOW_S, ORDERS, ORDERS_WINDOW_S = 300, 10, 10, 2


def market_for_orders(sim: SimulatorThread) -> tuple[str, int, int, int, list[str]]:
    """A USDT market's symbol, scales and a market-order size worth ~3 min notional; the ids of
    USDT markets to snapshot. Costs 25 weight outside the budget (its 10 % margin covers it)."""
    client = ccxt.binance(ccxt_options(sim.urls["binance"].rest))
    markets = client.load_markets()
    usdt = [s for s, m in markets.items() if m["quote"] == "USDT"]
    market = markets[usdt[0]]
    price_scale, size_scale = scale_of(market["precision"]["price"]), scale_of(market["precision"]["amount"])
    ask = Decimal(str(client.fetch_order_book(usdt[0], limit=5)["asks"][0][0]))
    size = int(Decimal(str(market["limits"]["cost"]["min"] * 3)) / ask * 10**size_scale) + 1
    return usdt[0], price_scale, size_scale, size, [markets[s]["id"] for s in usdt]


async def fetch_snapshots(socket_path: Path, rest_url: str, ids: list[str]) -> RestSnapshotClient:
    """Ingestion's REST snapshot client, asking the shared budget (weight 5 per book of 100 levels)."""
    budget = SnapshotBudgetClient(socket_path, connect_timeout_s=30)
    client = RestSnapshotClient("binance", rest_url, budget)
    try:
        paths = [f"/api/v3/depth?symbol={ids[i % len(ids)]}&limit=100" for i in range(SNAPSHOTS)]
        await asyncio.gather(*(client.get(path, 5) for path in paths))
        return client
    finally:
        await client.close()
        await budget.close()


@pytest.mark.e2e
def test_two_accounts_and_snapshots_through_one_budget_are_never_refused_and_lose_nothing(
    kafka_bootstrap: str, topic_factory, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    migrate(database_url)
    accounts = [
        {"api_key": DEFAULT_API_KEY, "secret": DEFAULT_API_SECRET, "balances": DEFAULT_BALANCES},
        {"api_key": SECOND_KEY, "secret": SECOND_SECRET, "balances": DEFAULT_BALANCES},
    ]
    limits = {"request_weight": WEIGHT, "request_weight_interval_s": WEIGHT_WINDOW_S,
              "orders": ORDERS, "orders_interval_s": ORDERS_WINDOW_S}  # fmt: skip
    monkeypatch.setenv("TRADEPLAT_SECOND_API_KEY", SECOND_KEY)
    monkeypatch.setenv("TRADEPLAT_SECOND_API_SECRET", SECOND_SECRET)
    socket_path = tmp_path / "budget.sock"
    service = SnapshotBudgetDaemon(
        SnapshotBudgetSettings(
            name="budget", bootstrap_servers=kafka_bootstrap, metrics_port=-1, heartbeat_interval_s=1.0,
            exchanges=["binance"], socket=str(socket_path),
            request_limits={"binance": {
                "rest": LimitOverride(WEIGHT, window_s=WEIGHT_WINDOW_S),
                "orders": LimitOverride(ORDERS, window_s=ORDERS_WINDOW_S),
            }},
        )
    )  # fmt: skip
    with SimulatorThread(make_config(exchanges=["binance"], binance={"rest": limits}, accounts=accounts)) as sim:
        symbol, price_scale, size_scale, size, ids = market_for_orders(sim)
        rest_url = sim.urls["binance"].rest
        events = {k: topic_factory(k) for k in ("order_events", "fills", "positions")}
        producer = Producer(producer_settings(kafka_bootstrap, ProducerProfile.LATENCY))
        daemons, orders = [], []
        for account in ("sim", "second"):
            requests = topic_factory(f"req-{account}", 1)
            for i in range(ORDERS_PER_ACCOUNT):
                request = msgspec.structs.replace(
                    order(f"{account}-{i}", symbol, price_scale, size_scale, None, size), account=account
                )
                orders.append(request)
                out = Output.event(requests, request)
                producer.produce(out.topic, out.value, out.key)
            daemons.append(
                ExecutionDaemon(
                    ExecutionSettings(
                        name=f"exec-{account}", bootstrap_servers=kafka_bootstrap, metrics_port=-1, inputs=[requests],
                        account=account, exchange="binance", rest_url=rest_url, simulator_keys=account == "sim",
                        database_url=database_url, batch_max=50, budget_socket=str(socket_path),
                        topics=ExecutionTopics(**events),
                    )
                )
            )  # fmt: skip
        assert producer.flush(30) == 0

        with DaemonThread(service), DaemonThread(daemons[0]), DaemonThread(daemons[1]):
            snapshots = asyncio.run(fetch_snapshots(socket_path, rest_url, ids))  # meanwhile the orders go out
            wait_until(
                lambda: fetch(database_url, "SELECT count(*) AS n FROM orders WHERE status = 'filled'")[0]["n"] == len(orders),
                120, "every order filled", interval_s=0.5,
            )  # fmt: skip
            stats = service.server.stats()["binance"]
            granted_by = dict(service.server.scheduler.granted_by)
            service_metrics = generate_latest(service.metrics.registry).decode()
            execution_metrics = generate_latest(daemons[1].metrics.registry).decode()
        refusals = sim.call(lambda: dict(sim.simulator.venues["binance"].limiter.refusals))
        arrivals = sim.ground_truth.orders("binance")

    assert refusals == {}, refusals  # not one 429 for weight, not one 418
    assert [a for a in arrivals if a.error_code != 0] == []  # not one order refused for the account's order rate
    assert Counter(a.client_order_id for a in arrivals) == {o.client_order_id: 1 for o in orders}  # each once
    assert Counter(a.account for a in arrivals) == {DEFAULT_API_KEY: ORDERS_PER_ACCOUNT, SECOND_KEY: ORDERS_PER_ACCOUNT}
    assert snapshots.fetched == SNAPSHOTS and snapshots.rate_limited == 0
    assert stats.backoffs == 0 and stats.refused == 0
    assert granted_by[("binance", "account:sim", "place")] == ORDERS_PER_ACCOUNT
    assert granted_by[("binance", "account:second", "place")] == ORDERS_PER_ACCOUNT
    assert granted_by[("binance", "ip", "snapshot")] == SNAPSHOTS
    # a batch of first orders loads the markets (weight 20) once per account, not once per order
    assert granted_by[("binance", "account:sim", "markets")] == granted_by[("binance", "account:second", "markets")] == 1
    labels = 'daemon="budget",exchange="binance",kind="place",scope="account:second"'
    assert f"platform_request_budget_grants_total{{{labels}}} {ORDERS_PER_ACCOUNT}.0" in service_metrics
    assert f"platform_request_budget_wait_seconds_count{{{labels}}} {ORDERS_PER_ACCOUNT}.0" in service_metrics
    waits = f'platform_execution_budget_wait_seconds_count{{daemon="exec-second",kind="place"}} {ORDERS_PER_ACCOUNT}.0'
    assert waits in execution_metrics
