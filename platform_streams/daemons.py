"""Registry of runnable daemon kinds: the name a deployment spec uses → class and settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from platform_streams.demo.passthrough import PassThroughDaemon, PassThroughSettings
from platform_streams.demo.synthetic_trades import SyntheticTradeSettings, SyntheticTradeSource
from platform_streams.ingestion.ccxt_daemon import CcxtIngestionDaemon, CcxtIngestionSettings
from platform_streams.ingestion.daemon import IngestionDaemon, IngestionSettings
from platform_streams.ingestion.snapshot_budget_daemon import SnapshotBudgetDaemon, SnapshotBudgetSettings
from platform_streams.normalisation.daemon import NormaliserDaemon, NormaliserSettings
from platform_streams.simulator.daemon import ExchangeSimulatorDaemon, ExchangeSimulatorSettings
from platform_streams.sinks.daemon import PostgresSinkDaemon, PostgresSinkSettings
from platform_streams.sinks.raw_archive_sink import RawArchiveDaemon, RawArchiveSettings


class DaemonKind(msgspec.Struct, frozen=True):
    """A runnable daemon: its class and the settings struct it is configured with."""

    daemon: type
    settings: type
    description: str


DAEMON_KINDS: Mapping[str, DaemonKind] = {
    "passthrough": DaemonKind(PassThroughDaemon, PassThroughSettings, "copies input topics to an output topic"),
    "synthetic-trades": DaemonKind(SyntheticTradeSource, SyntheticTradeSettings, "emits synthetic trades at a rate"),
    "ingestion": DaemonKind(IngestionDaemon, IngestionSettings, "one replica's shard of an exchange's WebSockets into md.raw"),
    "ccxt-ingestion": DaemonKind(
        CcxtIngestionDaemon, CcxtIngestionSettings, "any exchange ccxt.pro supports, as ccxt-format frames into md.raw"
    ),
    "snapshot-budget": DaemonKind(
        SnapshotBudgetDaemon, SnapshotBudgetSettings, "the host's REST snapshot budget per exchange, for its ingestion daemons"
    ),
    "normaliser": DaemonKind(NormaliserDaemon, NormaliserSettings, "md.raw into canonical trades, books and top of book"),
    "raw-archive": DaemonKind(RawArchiveDaemon, RawArchiveSettings, "archives md.raw into hourly zstd files"),
    "postgres-sink": DaemonKind(
        PostgresSinkDaemon,
        PostgresSinkSettings,
        "writes trades, top of book, dead letters and instruments to PostgreSQL; candles from trades",
    ),
    "exchange-simulator": DaemonKind(
        ExchangeSimulatorDaemon, ExchangeSimulatorSettings, "simulated exchanges (real protocols) on fixed local ports"
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
