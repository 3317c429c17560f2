"""The host's snapshot budget as a supervised daemon (kind ``snapshot-budget``): one
:class:`SnapshotBudgetServer` on a unix socket that every ingestion daemon of the host asks
before a REST snapshot, so all of them together stay within each exchange's weight per IP.

Thin glue: the limits are the exchange adapters' own (``limits.rest_budget``) unless a
setting overrides them, validated when the deployment spec is loaded; the daemon lifecycle
adds metrics and heartbeats (``messages_in`` = requests, ``messages_out`` = grants).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import msgspec
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from platform_streams.exchanges.registry import VENUES
from platform_streams.ingestion.snapshot_budget_service import SnapshotBudgetServer, budget_socket_path
from platform_streams.runtime.lifecycle import BaseSettings, DaemonLifecycle
from platform_streams.settings import ConfigError

log = logging.getLogger(__name__)

DEFAULT_BUDGET_SOCKET = "snapshot-budget.sock"  # under the state folder


class BudgetLimit(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """An exchange's REST weight per source IP: ``weight`` per ``window_s`` seconds."""

    weight: int
    window_s: float


class SnapshotBudgetSettings(BaseSettings, kw_only=True):
    exchanges: list[str]  # the exchanges whose snapshots this host's daemons fetch
    socket: str = DEFAULT_BUDGET_SOCKET  # relative: under the state folder (ingestion's budget_socket names it)
    limits: dict[str, BudgetLimit] = {}  # exchange → its REST weight, where the adapter's documented one is wrong
    safety: float = 0.9  # share of the weight any window may see
    burst: float = 0.2  # share of the weight granted at once

    def __post_init__(self) -> None:
        self.budget_limits()  # a bad setting fails when the deployment spec is loaded
        budget_socket_path(self.socket)

    def budget_limits(self) -> dict[str, tuple[int, float]]:
        """exchange → (weight, window seconds), from ``limits`` or the exchange adapter."""
        if not self.exchanges:
            raise ConfigError(f"{self.name}: exchanges is empty; name the exchanges whose snapshots it budgets")
        unknown = sorted(set(self.exchanges) - VENUES.keys())
        if unknown:
            raise ConfigError(f"{self.name}: no exchange adapter for {unknown} (known: {sorted(VENUES)})")
        stray = sorted(set(self.limits) - set(self.exchanges))
        if stray:
            raise ConfigError(f"{self.name}: limits given for {stray}, which are not in exchanges {self.exchanges}")
        if not 0 < self.burst < self.safety <= 1:
            raise ConfigError(f"{self.name}: need 0 < burst < safety <= 1, not burst={self.burst} safety={self.safety}")
        limits: dict[str, tuple[int, float]] = {}
        for exchange in self.exchanges:
            override = self.limits.get(exchange)
            documented = VENUES[exchange].limits.rest_budget
            if override is not None:
                if override.weight <= 0 or override.window_s <= 0:
                    raise ConfigError(f"{self.name}: limits.{exchange} must be positive, not {override}")
                limits[exchange] = (override.weight, override.window_s)
            elif documented is not None:
                limits[exchange] = (documented.count, documented.window_s)
            else:
                raise ConfigError(
                    f"{self.name}: the {exchange} adapter documents no REST budget; "
                    f"set limits.{exchange}: {{weight: ..., window_s: ...}}"
                )
        return limits


class SnapshotBudgetCollector:
    """The server's counters as Prometheus metrics, read at each scrape."""

    def __init__(self, daemon: str, server: SnapshotBudgetServer) -> None:
        self._daemon = daemon
        self._server = server

    def collect(self) -> Iterator[Metric]:
        labels = ["daemon", "exchange"]
        families = {
            "grants": CounterMetricFamily("platform_snapshot_budget_grants", "Snapshot requests granted", labels=labels),
            "weight_granted": CounterMetricFamily(
                "platform_snapshot_budget_granted_weight", "REST weight granted", labels=labels
            ),
            "backoffs": CounterMetricFamily(
                "platform_snapshot_budget_backoffs", "429/418 Retry-After answers reported by clients", labels=labels
            ),
            "refused": CounterMetricFamily(
                "platform_snapshot_budget_refused", "Requests refused (weight above the budget's capacity)", labels=labels
            ),
            "waiting": GaugeMetricFamily("platform_snapshot_budget_waiting_requests", "Requests queued", labels=labels),
        }
        for exchange, stats in self._server.stats().items():
            for field, family in families.items():
                family.add_metric([self._daemon, exchange], getattr(stats, field))
        yield from families.values()
        clients = GaugeMetricFamily("platform_snapshot_budget_clients", "Connected clients", labels=["daemon"])
        clients.add_metric([self._daemon], self._server.clients)
        yield clients
        malformed = CounterMetricFamily(
            "platform_snapshot_budget_malformed_requests", "Lines answered with an error", labels=["daemon"]
        )
        malformed.add_metric([self._daemon], self._server.malformed)
        yield malformed


class SnapshotBudgetDaemon(DaemonLifecycle):
    """Serves the host's snapshot budgets until asked to stop, then removes its socket."""

    settings: SnapshotBudgetSettings

    def __init__(self, settings: SnapshotBudgetSettings) -> None:
        super().__init__(settings)
        self.server = SnapshotBudgetServer(
            budget_socket_path(settings.socket), settings.budget_limits(), settings.safety, settings.burst
        )
        self.metrics.registry.register(SnapshotBudgetCollector(settings.name, self.server))

    def run(self) -> None:
        self.run_event_loop(self._main)
        log.info("snapshot budget stopped", extra={"requests": self.server.requests, "grants": self.messages_out})

    async def _main(self) -> None:
        if self.stopping:
            return
        await self.server.start()
        try:
            log.info(
                "serving snapshot budgets",
                extra={"socket": str(self.server.socket_path), "budgets": self.settings.budget_limits()},
            )
            await self.serve_until_stopped(self._report)
        finally:
            self._state = "stopping"
            await self.server.stop()

    def _report(self) -> None:
        granted = sum(stats.grants for stats in self.server.stats().values())
        self.metrics.messages_in.inc(self.server.requests - self.messages_in)
        self.metrics.messages_out.inc(granted - self.messages_out)
        self.messages_in, self.messages_out = self.server.requests, granted
        self.send_heartbeat([])
