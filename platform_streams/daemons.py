"""Registry of runnable daemon kinds: the name a deployment spec uses → class and settings.

Each kind names the module holding its daemon and settings classes, imported when the kind is
first used: a process runs one kind, and ``tradeplat status`` none, so neither pays for importing
every kind's dependencies (ccxt alone takes seconds).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

import msgspec


class DaemonKind(msgspec.Struct, frozen=True):
    """A runnable daemon: the module with its class and the settings struct it is configured with."""

    module: str
    daemon_class: str
    settings_class: str
    description: str

    @property
    def daemon(self) -> type:
        return getattr(importlib.import_module(self.module), self.daemon_class)

    @property
    def settings(self) -> type:
        return getattr(importlib.import_module(self.module), self.settings_class)


DAEMON_KINDS: Mapping[str, DaemonKind] = {
    "passthrough": DaemonKind(
        "platform_streams.demo.passthrough", "PassThroughDaemon", "PassThroughSettings", "copies input topics to an output topic"
    ),
    "synthetic-trades": DaemonKind(
        "platform_streams.demo.synthetic_trades",
        "SyntheticTradeSource",
        "SyntheticTradeSettings",
        "emits synthetic trades at a rate",
    ),
    "ingestion": DaemonKind(
        "platform_streams.ingestion.daemon",
        "IngestionDaemon",
        "IngestionSettings",
        "one replica's shard of an exchange's WebSockets into md.raw",
    ),
    "ccxt-ingestion": DaemonKind(
        "platform_streams.ingestion.ccxt_daemon",
        "CcxtIngestionDaemon",
        "CcxtIngestionSettings",
        "any exchange ccxt.pro supports, as ccxt-format frames into md.raw",
    ),
    "snapshot-budget": DaemonKind(
        "platform_streams.ingestion.snapshot_budget_daemon",
        "SnapshotBudgetDaemon",
        "SnapshotBudgetSettings",
        "the host's REST snapshot budget per exchange, for its ingestion daemons",
    ),
    "normaliser": DaemonKind(
        "platform_streams.normalisation.daemon",
        "NormaliserDaemon",
        "NormaliserSettings",
        "md.raw into canonical trades, books and top of book",
    ),
    "processing": DaemonKind(
        "platform_streams.processing.daemon",
        "ProcessingDaemon",
        "ProcessingSettings",
        "md.trade (and md.bbo) into candles on md.candle and indicators on md.indicator",
    ),
    "raw-archive": DaemonKind(
        "platform_streams.sinks.raw_archive_sink",
        "RawArchiveDaemon",
        "RawArchiveSettings",
        "archives md.raw into hourly zstd files",
    ),
    "postgres-sink": DaemonKind(
        "platform_streams.sinks.daemon",
        "PostgresSinkDaemon",
        "PostgresSinkSettings",
        "writes trades, top of book, dead letters and instruments to PostgreSQL; candles from trades",
    ),
    "execution": DaemonKind(
        "platform_streams.execution.daemon",
        "ExecutionDaemon",
        "ExecutionSettings",
        "one exchange account's order requests to the exchange; order events, fills, positions",
    ),
    "strategy-host": DaemonKind(
        "platform_streams.strategy_host.daemon",
        "StrategyHostDaemon",
        "StrategyHostSettings",
        "many strategy deployments off one read of the market data, intents to strat.intent",
    ),
    "trading-chain": DaemonKind(
        "platform_streams.trading_chain.daemon",
        "TradingChainDaemon",
        "TradingChainSettings",
        "a strategy host with risk chained in: intents and order requests from one call per event",
    ),
    "exchange-simulator": DaemonKind(
        "platform_streams.simulator.daemon",
        "ExchangeSimulatorDaemon",
        "ExchangeSimulatorSettings",
        "simulated exchanges (real protocols) on fixed local ports",
    ),
    "risk": DaemonKind(
        "platform_streams.risk.daemon",
        "RiskDaemon",
        "RiskSettings",
        "pre-trade risk: strat.intent into sized exec.order_request or risk.rejection, per account",
    ),
}


class UnknownDaemonKind(KeyError):
    def __str__(self) -> str:
        return f"unknown daemon kind {self.args[0]!r}; known: {', '.join(sorted(DAEMON_KINDS))}"


def daemon_kind(name: str) -> DaemonKind:
    try:
        return DAEMON_KINDS[name]
    except KeyError:
        raise UnknownDaemonKind(name) from None


def describe() -> dict[str, Any]:
    return {name: kind.description for name, kind in DAEMON_KINDS.items()}
