"""The whole trading path for end-to-end tests: the market-data pipeline (simulator in this process on a
manual clock, ingestion, normalisers, sink) plus processing and the daemons of ``deployments/trading.yaml``
(strategy host, risk, execution live on the simulator and paper), all on the default topic names of a
broker and database of the test's own, under one supervisor as ``tradeplat up`` runs them.

The checks are the issue's: every client order id the simulator saw is in the ``orders`` table and
reached the simulator once; the account state PostgreSQL holds (positions, and the fills' quote flows
and fees) equals the simulator's balances, per account and asset, exactly.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition

from platform_streams.cli.commands_stack import MARKET_DATA_DEPLOYMENT, TRADING_DEPLOYMENT
from platform_streams.embedded.stack import Connections, PlatformStack
from platform_streams.kafka_clients import ProducerProfile, consumer_settings, producer_settings
from platform_streams.schemas import CancelRequest, OrderRequest, RiskControl, TypedDecoder, encode
from platform_streams.simulator import DEFAULT_API_KEY
from platform_streams.simulator.config import DEFAULT_BALANCES
from platform_streams.supervisor.services import ServiceSupervisor
from platform_streams.supervisor.stack_services import server_services
from platform_streams.topics import (
    BBO_TOPIC,
    BOOK_TOPIC,
    DEADLETTER_TOPIC,
    EXCHANGE_CANDLE_TOPIC,
    INSTRUMENT_TOPIC,
    ORDER_REQUEST_TOPIC,
    RAW_TOPIC,
    RESYNC_TOPIC,
    RISK_CONTROL_TOPIC,
    TRADE_TOPIC,
    ensure_topics,
)
from tests.market_data.pipeline_harness import MarketDataPipeline
from tests.sinks.sink_harness import fetch

LIVE_ACCOUNT = "sim"
LIVE_EXCHANGES = ("binance", "okx", "kraken")
_PIPELINE_TOPICS = {
    "raw": RAW_TOPIC, "trade": TRADE_TOPIC, "book": BOOK_TOPIC, "bbo": BBO_TOPIC, "candle": EXCHANGE_CANDLE_TOPIC,
    "resync": RESYNC_TOPIC, "instr": INSTRUMENT_TOPIC, "dead": DEADLETTER_TOPIC,
}  # fmt: skip


def default_topic(name: str, _partitions: int = 4) -> str:
    """The market-data pipeline's topics under their platform names (the broker is the test's own)."""
    return _PIPELINE_TOPICS[name]


@contextmanager
def supervised_servers(
    folder: Path, restart_delay_s: float = 0.0
) -> Iterator[tuple[PlatformStack, Connections, ServiceSupervisor]]:
    """A broker and a database of the test's own, supervised as by `tradeplat up`, every topic created."""
    stack = PlatformStack(folder, env={})
    connections = stack.start()
    services = ServiceSupervisor(server_services(stack, connections), restart_delay_s=restart_delay_s)
    try:
        ensure_topics(connections.kafka_bootstrap_servers, default_partitions=4)
        yield stack, connections, services
    finally:
        services.close()
        stack.stop()


def _daemons(path: Path) -> list[dict[str, Any]]:
    return yaml.safe_load(path.read_text())["daemons"]


def trading_daemons(urls: dict[str, Any], budget_socket: Path) -> list[dict[str, Any]]:
    """Processing (from the market-data deployment) and every daemon of the trading deployment, as
    shipped, but for the live accounts' URLs (this simulator's ports), the host's request budget
    (this pipeline's service) and quicker heartbeats."""
    (processing,) = [d for d in _daemons(MARKET_DATA_DEPLOYMENT) if d["kind"] == "processing"]
    daemons = [processing, *_daemons(TRADING_DEPLOYMENT)]
    for daemon in daemons:
        config = daemon.setdefault("config", {})
        config["heartbeat_interval_s"] = 1
        if daemon["kind"] == "execution" and config.get("mode", "live") == "live":
            config["rest_url"] = urls[config["exchange"]].rest
            if "budget_socket" in config:
                config["budget_socket"] = str(budget_socket)
    return daemons


def live_deployments() -> set[str]:
    (host,) = [d for d in _daemons(TRADING_DEPLOYMENT) if d["kind"] == "strategy-host"]
    return {d["id"] for d in host["config"]["deployments"] if d["mode"] == "live"}


class RealTimeMarket(MarketDataPipeline):
    """The pipeline with the simulator's manual clock kept at wall-clock pace: each step advances the
    market by the wall time since the last one (at most a second). Processing closes a quiet
    instrument's candle by the wall clock, so a market slower than real time (a loaded machine
    stepping 50 ms at a time) would see most trades dropped as late and hardly a 1 s candle."""

    _QUANTUM_S = 0.01
    _last_step = 0.0

    def step(self, quanta: int = 5) -> None:
        assert self.sim is not None and self.supervisor is not None
        now = time.monotonic()
        elapsed = now - self._last_step if self._last_step else quanta * self._QUANTUM_S
        self._last_step = now
        self.sim.step(max(1, min(100, round(elapsed / self._QUANTUM_S))))
        self.supervisor.tick()
        time.sleep(quanta / 100)

    def run_market(self, seconds: float) -> None:
        """``seconds`` of market, which here are as many seconds of wall time (counting steps, as the
        pipeline does, would run it longer by every step's overhead)."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.step(5)


def trading_pipeline(
    connections: Connections, services: ServiceSupervisor, folder: Path, instruments: int = 100
) -> MarketDataPipeline:
    return RealTimeMarket(
        connections.kafka_bootstrap_servers, connections.database_url, folder, default_topic, instruments=instruments,
        rate=1000, services=services, extra_daemons=trading_daemons,
    )  # fmt: skip


def halt_all_trading(bootstrap: str) -> None:
    """The global kill switch, as `tradeplat kill-switch global` writes it: no new order after it."""
    control = RiskControl(scope="global", halted=True, reason="test: stop trading", operator="test", ts_ns=time.time_ns())
    producer = Producer(producer_settings(bootstrap, ProducerProfile.LATENCY))
    producer.produce(RISK_CONTROL_TOPIC, encode(control), control.key)
    assert producer.flush(30) == 0


# -- what the simulator and PostgreSQL hold ---------------------------------------------------------------------
def simulator_account(pipeline: MarketDataPipeline, exchange: str) -> dict[str, Any]:
    assert pipeline.sim is not None
    (account,) = [a for a in pipeline.sim.accounts()[exchange] if a["api_key"] == DEFAULT_API_KEY]
    return account


def simulator_balance_changes(account: dict[str, Any]) -> dict[str, Decimal]:
    """Each asset's balance (free + locked) less what the account started with."""
    changes = {
        asset: Decimal(b["free"]) + Decimal(b["locked"]) - Decimal(DEFAULT_BALANCES.get(asset, "0"))
        for asset, b in account["balances"].items()
    }
    return {asset: change for asset, change in changes.items() if change}


def platform_balance_changes(database_url: str, account: str, exchange: str) -> dict[str, Decimal]:
    """The same from PostgreSQL: each position's size in its base asset, each fill's price × size in
    its quote asset (paid for a buy, received for a sell), less each fill's fee in its asset."""
    changes: dict[str, Decimal] = defaultdict(Decimal)
    where = "WHERE account = $1 AND exchange = $2"
    for row in fetch(database_url, f"SELECT symbol, size FROM positions {where}", account, exchange):
        changes[row["symbol"].split("/")[0]] += row["size"]
    for row in fetch(database_url, f"SELECT symbol, side, price, size, fee, fee_asset FROM fills {where}", account, exchange):
        notional = row["price"] * row["size"]
        changes[row["symbol"].split("/")[1]] += -notional if row["side"] == "buy" else notional
        changes[row["fee_asset"]] -= row["fee"]
    return {asset: change for asset, change in changes.items() if change}


def account_differences(pipeline: MarketDataPipeline, exchange: str) -> list[str]:
    """What differs between the simulator's view of the live account at ``exchange`` and the platform's."""
    account = simulator_account(pipeline, exchange)
    url = pipeline.database_url
    stored = {
        r["client_order_id"]: r
        for r in fetch(url, "SELECT client_order_id, filled_size FROM orders WHERE account = $1 AND exchange = $2", LIVE_ACCOUNT, exchange)
    }  # fmt: skip
    wrong = [
        f"{exchange}: order {o['client_order_id']} not in the orders table"
        for o in account["orders"]
        if o["client_order_id"] not in stored
    ]
    wrong += [
        f"{exchange}: order {o['client_order_id']} filled {o['executed_quantity']} at the simulator, {stored[o['client_order_id']]['filled_size']} stored"
        for o in account["orders"]
        if o["client_order_id"] in stored and Decimal(o["executed_quantity"]) != stored[o["client_order_id"]]["filled_size"]
    ]  # fmt: skip
    simulator, platform = simulator_balance_changes(account), platform_balance_changes(url, LIVE_ACCOUNT, exchange)
    if simulator != platform:
        wrong.append(f"{exchange}: balance changes at the simulator {simulator}, in PostgreSQL {platform}")
    return wrong


def assert_accounts_match(pipeline: MarketDataPipeline, timeout_s: float = 120) -> dict[str, int]:
    """Once trading stopped: wait (the market still) until PostgreSQL caught up with every live account,
    then check exactly; no client order id reached the simulator twice. Returns orders per exchange."""
    wrong: list[str] = []

    def caught_up() -> bool:
        wrong[:] = [line for exchange in LIVE_EXCHANGES for line in account_differences(pipeline, exchange)]
        return not wrong

    try:
        pipeline.wait_until(caught_up, timeout_s, "PostgreSQL to hold the simulator's account state", move_market=False)
    except AssertionError as exc:
        raise AssertionError("; ".join(wrong[:10])) from exc
    assert pipeline.sim is not None
    orders: dict[str, int] = {}
    for exchange in LIVE_EXCHANGES:
        arrivals = Counter(a.client_order_id for a in pipeline.sim.ground_truth.orders(exchange))
        assert all(n == 1 for n in arrivals.values()), [c for c, n in arrivals.items() if n > 1]
        orders[exchange] = len(simulator_account(pipeline, exchange)["orders"])
    return orders


def deployments_with_fills(database_url: str, account: str) -> set[str]:
    """Strategy deployments with at least one fill in the account (an intent id starts with its deployment)."""
    rows = fetch(database_url, """
        SELECT DISTINCT split_part(o.intent_id, ':', 1) AS deployment
        FROM orders o JOIN fills f USING (client_order_id) WHERE o.account = $1""", account)  # fmt: skip
    return {r["deployment"] for r in rows}


def read_whole_topic(bootstrap: str, topic: str, *types: type) -> list[Any]:
    """Every record of ``topic`` up to its end as of now, decoded as ``types``."""
    consumer = Consumer(consumer_settings(bootstrap, f"check-{time.time_ns()}"))
    decoder = TypedDecoder(*types)
    try:
        partitions = sorted(consumer.list_topics(topic, timeout=10).topics[topic].partitions)
        ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions}
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        read = dict.fromkeys(partitions, 0)
        records: list[Any] = []
        deadline = time.monotonic() + 60
        while any(read[p] < ends[p] for p in partitions):
            assert time.monotonic() < deadline, f"{topic} not read to its end within 60 s"
            for message in consumer.consume(1000, 0.5):
                if message.error() is None:
                    read[message.partition()] = message.offset() + 1
                    records.append(decoder.decode(message.value()))
        return records
    finally:
        consumer.close()


def unanswered_requests(pipeline: MarketDataPipeline) -> list[str]:
    """Order requests of the live account with neither an order at the simulator nor a rejection."""
    assert pipeline.sim is not None
    requests = [
        r
        for r in read_whole_topic(pipeline.bootstrap, ORDER_REQUEST_TOPIC, OrderRequest, CancelRequest)
        if isinstance(r, OrderRequest)
    ]
    arrived = {a.client_order_id for exchange in LIVE_EXCHANGES for a in pipeline.sim.ground_truth.orders(exchange)}
    rejected = {
        r["client_order_id"] for r in fetch(pipeline.database_url, "SELECT client_order_id FROM orders WHERE status = 'rejected'")
    }
    return [
        f"{r.exchange}:{r.client_order_id}" for r in requests
        if r.account == LIVE_ACCOUNT and r.client_order_id not in arrived and r.client_order_id not in rejected
    ]  # fmt: skip


def assert_every_request_answered(pipeline: MarketDataPipeline, timeout_s: float = 60) -> None:
    """Every order request of the live account became an order at the simulator or a rejection
    (waiting, the market still, for requests still on their way to execution)."""
    missing: list[str] = []

    def all_answered() -> bool:
        missing[:] = unanswered_requests(pipeline)
        return not missing

    try:
        pipeline.wait_until(all_answered, timeout_s, "every order request answered", move_market=False)
    except AssertionError as exc:
        raise AssertionError(f"{len(missing)} requests unanswered, e.g. {missing[:10]}") from exc
