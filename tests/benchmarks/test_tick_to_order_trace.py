"""The tick-to-order figures from per-order traces: the cause read from the intent id, broker waits
between stages, platform time, the per-segment cut and the quantiles."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from tick_to_order_trace import (  # noqa: E402
    OrderLatency,
    StoredOrder,
    broker_waits,
    cause_of,
    order_latency,
    quantile,
    run_figures,
)

HOPS = [("feed", 900, 1_000), ("canonical", 1_300, 1_350), ("strategy", 1_600, 1_700), ("risk", 1_700, 1_720),
        ("execution", 2_200, 2_200)]  # fmt: skip


def test_the_cause_is_read_from_the_intent_id() -> None:
    assert cause_of("mm-0:bbo:binance:BTC/USDT:77:123:0") == ("bbo", "binance", "BTC/USDT")
    assert cause_of("ema-2:candle:okx:ETH/USDT:1:0:5:1:0") == ("candle", "okx", "ETH/USDT")
    assert cause_of("garbage") is None


def test_broker_waits_are_the_gaps_between_stages_from_the_receipt_on() -> None:
    assert broker_waits(HOPS, 1_000) == (300, 250, 0, 480)  # md.raw, md.bbo, chained (none), exec.order_request


def test_platform_time_is_end_to_end_minus_the_broker_and_the_segments_add_up() -> None:
    order = StoredOrder("c1", "binance", "mm-0:bbo:binance:BTC/USDT:1:1:0", HOPS, 1_000, 2_900)
    latency = order_latency(order, emit_ns=800, arrival_ns=3_400)
    assert latency.end_to_end_ns == 2_600 and latency.broker_ns == 1_030 and latency.platform_ns == 1_570
    assert sum(ns for _, ns in latency.segments) == latency.end_to_end_ns
    assert dict(latency.segments) == {
        "emit→receive": 200, "wait→canonical": 300, "canonical": 50, "wait→strategy": 250, "strategy": 100,
        "wait→risk": 0, "risk": 20, "wait→execution": 480, "execution": 700, "sent→arrival": 500,
    }  # fmt: skip


def test_quantiles_by_nearest_rank_and_run_figures_in_ms() -> None:
    values = list(range(1, 1001))
    assert (quantile(values, 0.5), quantile(values, 0.99), quantile(values, 0.999), quantile(values, 1.0)) == (
        500, 990, 999, 1000,
    )  # fmt: skip
    assert quantile([], 0.5) != quantile([], 0.5)  # NaN: no orders, no figure
    figures = run_figures([OrderLatency(4_000_000, 1_000_000, (500_000, 500_000))] * 3, 123.0)
    assert (figures.orders, figures.p50_ms, figures.platform_p50_ms, figures.broker_hop_ms) == (3, 4.0, 3.0, 0.5)
    assert figures.throughput_eps == pytest.approx(123.0)


def test_the_benchmark_deploys_the_four_strategies_on_disjoint_instruments_and_the_chain_accepts_them() -> None:
    from tick_to_order_deployment import deployment_spec, simulator_config

    from platform_streams.supervisor.spec import parse_spec
    from platform_streams.trading_chain.daemon import TradingChainDaemon, TradingChainSettings

    plan = deployment_spec(1000, 100, {"binance": 1, "okx": 2, "kraken": 3}, "postgresql://db", Path("/tmp/b.sock"), 2)
    parse_spec(plan.spec)
    deployments = plan.chain_config["deployments"]
    keys = [key for d in deployments for key in d["instruments"]]
    assert len(deployments) == 100 and len(keys) == len(set(keys))
    assert {d["strategy"] for d in deployments} == {
        "inventory-market-maker", "cross-exchange-arbitrage", "ema-crossover", "mean-reversion",
    }  # fmt: skip
    settings = msgspec.convert(
        {**plan.chain_config, "name": "chain", "bootstrap_servers": "127.0.0.1:1", "metrics_port": -1}, TradingChainSettings
    )
    chain = TradingChainDaemon(settings)
    assert chain.refused == {} and len(chain.fanout.deployments) == 100  # every parameter valid, no instrument shared
    balances = simulator_config(1, plan.base_balances)["accounts"][0]["balances"]
    assert Decimal(balances["BTC"]) >= 10 and all(Decimal(balances[asset]) > 0 for asset in plan.base_balances)
    assert plan.native_symbols[("binance", "BTC/USDT")] == "BTCUSDT" and plan.native_symbols[("okx", "BTC/USDT")] == "BTC-USDT"


def test_with_no_normaliser_daemons_every_ingestion_normalises_its_own_frames() -> None:
    from tick_to_order_deployment import deployment_spec

    from platform_streams.ingestion.daemon import IngestionSettings
    from platform_streams.kafka_clients import ProducerProfile
    from platform_streams.supervisor.spec import parse_spec
    from platform_streams.topics import BBO_TOPIC

    ports = {"binance": 1, "okx": 2, "kraken": 3}
    chained = deployment_spec(1000, 4, ports, "postgresql://db", Path("/tmp/b.sock"), 0, "latency").spec
    separate = deployment_spec(1000, 4, ports, "postgresql://db", Path("/tmp/b.sock"), 2).spec
    for spec, normalisers in ((chained, 0), (separate, 2)):
        parse_spec(spec)
        assert sum(d.get("replicas", 1) for d in spec["daemons"] if d["kind"] == "normaliser") == normalisers
    ingestion = [d for d in chained["daemons"] if d["kind"] == "ingestion"]
    assert {d["config"]["exchange"] for d in ingestion} == set(ports)
    for daemon in ingestion:
        settings = msgspec.convert({**daemon["config"], "name": daemon["name"]}, IngestionSettings)
        assert settings.normalise and settings.kafka.topic_profiles[BBO_TOPIC] is ProducerProfile.LATENCY
    assert not any(d["config"].get("normalise") for d in separate["daemons"] if d["kind"] == "ingestion")
