"""What the tick-to-order benchmark runs: the deployment spec (ingestion, normalisers, processing,
the trading chain with its strategy deployments, execution per exchange) and the simulator's
configuration (its accounts funded in the traded assets, order-rate limits out of the way).

Strategy deployments take the four strategies in turn, each on the simulator's most active
instruments not yet taken (the listing is deterministic from the seed, so the benchmark knows it
before the simulator starts): the market maker on Binance, the arbitrage on one pair of Binance
and OKX, EMA crossover on OKX (1 s bars), mean reversion on Kraken (1 s bars, paper).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from market_data_pipeline import EXCHANGES, ingestion_daemons

ACCOUNT = "sim"
LIVE = ("binance", "okx")  # Kraken on paper: its private-call counter (15, falling 0.33/s) would pace the orders
_QUOTES = {"binance": ("USDT",), "okx": ("USDT",), "kraken": ("USD", "USDT")}
_ORDER_VALUE = Decimal(40)  # quote units per order, above every listed minimum notional


@dataclass
class DeploymentPlan:
    spec: dict[str, Any]
    chain_config: dict[str, Any]
    base_balances: dict[str, str]
    native_symbols: dict[tuple[str, str], str] = field(default_factory=dict)  # (exchange, BASE/QUOTE) → the wire's name
    live_exchanges: tuple[str, ...] = LIVE


class _Listing:
    """One exchange's listed instruments by activity, handed out once each."""

    def __init__(self, exchange: str, instruments: tuple[Any, ...]) -> None:
        quotes = _QUOTES[exchange]
        self.exchange = exchange
        self.free = sorted((i for i in instruments if i.quote in quotes), key=lambda i: -i.activity)
        self.by_symbol = {i.symbol: i for i in instruments}

    def take(self, count: int, exclude: set[str] | None = None) -> list[Any]:
        taken = [i for i in self.free if not exclude or i.symbol not in exclude][:count]
        if len(taken) < count:
            raise ValueError(f"{self.exchange}: not enough instruments for the deployments asked")
        for instrument in taken:
            self.free.remove(instrument)
        return taken


def _size(instrument: Any) -> Decimal:
    """A size worth about ``_ORDER_VALUE`` quote units (or the minimum notional's triple), on the lot grid."""
    price = Decimal(instrument.start_price_ticks * instrument.tick) / 10**8
    lot = Decimal(instrument.lot) / 10**8
    value = max(_ORDER_VALUE, 3 * Decimal(instrument.min_notional) / 10**8)
    return (math.ceil(value / price / lot) * lot).normalize()


def _strategy_deployments(count: int, listings: dict[str, _Listing], balances: dict[str, Decimal]) -> list[dict[str, Any]]:
    deployments: list[dict[str, Any]] = []

    def fund(instrument: Any, size: Decimal) -> None:
        balances[instrument.base] = balances.get(instrument.base, Decimal(0)) + 1000 * size

    for n in range(count):
        kind = n % 4
        if kind == 0:
            (instrument,) = listings["binance"].take(1)
            size = _size(instrument)
            fund(instrument, size)
            deployments.append({
                "id": f"mm-{n}", "strategy": "inventory-market-maker", "instruments": [f"binance:{instrument.symbol}"],
                "account": ACCOUNT, "mode": "live",
                "parameters": {"half_spread_bps": "5", "requote_bps": "2", "quote_size": str(size),
                               "max_inventory": str(20 * size)},
            })  # fmt: skip
        elif kind == 1:
            okx_symbols = {i.symbol for i in listings["okx"].free}
            (leg,) = listings["binance"].take(1, exclude={s for s in listings["binance"].by_symbol if s not in okx_symbols})
            listings["okx"].free.remove(listings["okx"].by_symbol[leg.symbol])
            size = _size(leg)
            fund(leg, size)
            deployments.append({
                "id": f"arb-{n}", "strategy": "cross-exchange-arbitrage", "account": ACCOUNT, "mode": "live",
                "instruments": [f"binance:{leg.symbol}", f"okx:{leg.symbol}"],
                "parameters": {"fee_bps": "0", "threshold_bps": "0", "trade_size": str(size), "max_inventory": str(5 * size)},
            })  # fmt: skip
        elif kind == 2:
            instruments = listings["okx"].take(2)
            size = max(_size(i) for i in instruments)
            for instrument in instruments:
                fund(instrument, size)
            deployments.append({
                "id": f"ema-{n}", "strategy": "ema-crossover", "account": ACCOUNT, "mode": "live",
                "instruments": [f"okx:{i.symbol}" for i in instruments],
                "parameters": {"fast_period": 2, "slow_period": 3, "bar_interval_s": 1, "position_size": str(size)},
            })  # fmt: skip
        else:
            instruments = listings["kraken"].take(2)
            deployments.append({
                "id": f"mr-{n}", "strategy": "mean-reversion", "account": ACCOUNT, "mode": "paper",
                "instruments": [f"kraken:{i.symbol}" for i in instruments],
                "parameters": {"window": 5, "entry_z": "0.5", "exit_z": "0.1", "bar_interval_s": 1,
                               "position_size": str(max(_size(i) for i in instruments))},
            })  # fmt: skip
    return deployments


def deployment_spec(
    instruments: int,
    strategies: int,
    ports: dict[str, int],
    database_url: str,
    budget: Path,
    normalisers: int,
    canonical_profile: str = "stream",
) -> DeploymentPlan:
    """``normalisers``: normaliser daemons reading ``md.raw``; 0 chains the normaliser into each
    ingestion instead (canonical events one broker hop sooner), its trades and tops of book produced
    at ``canonical_profile`` (``latency``: no linger)."""
    from platform_streams.simulator.market.universe import build_universe
    from platform_streams.topics import BBO_TOPIC, TRADE_TOPIC

    universe = build_universe(7, dict.fromkeys(EXCHANGES, instruments))
    listings = {exchange: _Listing(exchange, universe.listings[exchange]) for exchange in EXCHANGES}
    balances: dict[str, Decimal] = {}
    deployments = _strategy_deployments(strategies, listings, balances)
    bar_instruments = sorted({key for d in deployments if "bar_interval_s" in d["parameters"] for key in d["instruments"]})
    chain_config: dict[str, Any] = {
        "deployments": deployments, "snapshot_interval_s": 30, "heartbeat_interval_s": 2,
        "risk": {"limits": {"default": {"max_open_orders": 2_000, "max_order_notional": "10000",
                                        "max_position_notional": "1000000", "max_daily_loss": "1000000",
                                        "price_band_bps": 1_000}}},
    }  # fmt: skip
    # as the market-data benchmark: Binance in two shards from 500 instruments
    daemons = ingestion_daemons(ports, instruments, budget, binance_replicas=2 if instruments >= 500 else 1)
    if not normalisers:
        for daemon in daemons:
            if daemon["kind"] == "ingestion":
                daemon["config"].update(
                    normalise=True, kafka={"topic_profiles": dict.fromkeys((BBO_TOPIC, TRADE_TOPIC), canonical_profile)}
                )
    for exchange in EXCHANGES:
        base = f"http://127.0.0.1:{ports[exchange]}"
        execution: dict[str, Any] = {
            "account": ACCOUNT,
            "exchange": exchange,
            "database_url": database_url,
            "heartbeat_interval_s": 2,
            "poll_interval_s": 5.0,  # REST for every followed order only while the private stream is down
        }
        if exchange in LIVE:  # the execution daemon's request budget raised as far as the simulator's limits are
            execution.update(rest_url=base, simulator_keys=True, budget_limits=BUDGET_LIMITS[exchange])
        else:
            execution.update(mode="paper")
        daemons.append({"name": f"exec-{exchange}", "kind": "execution", "restart": "always", "config": execution})
    if normalisers:
        daemons.append({"name": "normaliser", "kind": "normaliser", "replicas": normalisers, "restart": "always",
                        "config": {"heartbeat_interval_s": 2}})  # fmt: skip
    daemons += [
        {"name": "processing", "kind": "processing", "restart": "always",
         "config": {"candle_intervals_s": [1], "instruments": bar_instruments or ["none:none"], "heartbeat_interval_s": 2}},
        {"name": "chain", "kind": "trading-chain", "restart": "always", "config": chain_config},
    ]  # fmt: skip
    native = {("binance", i.symbol): f"{i.base}{i.quote}" for i in universe.listings["binance"]}
    native.update({("okx", i.symbol): f"{i.base}-{i.quote}" for i in universe.listings["okx"]})
    return DeploymentPlan(
        spec={"name": "bench-tick-to-order", "daemons": daemons},
        chain_config=chain_config,
        base_balances={asset: str(amount.normalize()) for asset, amount in balances.items()},
        native_symbols=native,
    )


BUDGET_LIMITS: dict[str, dict[str, dict[str, float]]] = {
    "binance": {"rest": {"count": 1_000_000, "window_s": 60}, "orders": {"count": 1_000_000, "window_s": 10}},
    "okx": {name: {"count": 10_000, "window_s": 2} for name in ("place", "cancel", "query", "pending", "fills_history")},
}
"""Execution's in-process request budget at the raised limits of :func:`simulator_config` (the
budget otherwise paces orders at the venue's real limits, which the benchmark has lifted)."""


def simulator_config(control_port: int, base_balances: dict[str, str]) -> dict[str, Any]:
    """The simulator's account funded in every traded asset, and order-rate limits that a benchmark
    of latency does not run into (the rate limits have their own tests)."""
    from platform_streams.simulator import DEFAULT_API_KEY, DEFAULT_API_PASSPHRASE, DEFAULT_API_SECRET
    from platform_streams.simulator.config import DEFAULT_BALANCES

    balances = dict(DEFAULT_BALANCES)
    for asset, amount in base_balances.items():  # never less than the simulator's own default
        balances[asset] = str(max(Decimal(amount), Decimal(balances.get(asset, "0"))))
    return {
        "control_port": control_port,
        "accounts": [{"api_key": DEFAULT_API_KEY, "secret": DEFAULT_API_SECRET, "passphrase": DEFAULT_API_PASSPHRASE,
                      "balances": balances}],
        "binance": {"rest": {"orders": 1_000_000, "request_weight": 1_000_000, "raw_requests": 1_000_000}},
        "okx": {"rest": {"orders": 100_000, "account": 10_000, "fills_history": 10_000}},
    }  # fmt: skip
