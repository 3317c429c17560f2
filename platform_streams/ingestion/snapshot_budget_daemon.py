"""The host's request budget as a supervised daemon (kind ``snapshot-budget``, its first use): one
:class:`SnapshotBudgetServer` on a unix socket that every ingestion daemon of the host asks before
a REST snapshot and every execution daemon before each call to the exchange, so all of them
together stay within each exchange's limits per IP and per account.

Thin glue: the limits are the exchange adapters' own (``limits.requests``) unless a setting
replaces some, validated when the deployment spec is loaded; the daemon lifecycle adds metrics
and heartbeats (``messages_in`` = requests, ``messages_out`` = grants).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import msgspec
from prometheus_client import Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from platform_streams.exchanges.limits import LimitOverride, RequestLimits, rest_only
from platform_streams.exchanges.registry import VENUES
from platform_streams.ingestion.request_budget import unaffordable
from platform_streams.ingestion.snapshot_budget_service import SnapshotBudgetServer, budget_socket_path
from platform_streams.runtime.lifecycle import BaseSettings, DaemonLifecycle
from platform_streams.settings import ConfigError

log = logging.getLogger(__name__)

DEFAULT_BUDGET_SOCKET = "snapshot-budget.sock"  # under the state folder
WAIT_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class BudgetLimit(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """An exchange's REST weight per source IP: ``weight`` per ``window_s`` seconds."""

    weight: int
    window_s: float


class SnapshotBudgetSettings(BaseSettings, kw_only=True):
    exchanges: list[str]  # the exchanges this host's daemons call
    socket: str = DEFAULT_BUDGET_SOCKET  # relative: under the state folder (ingestion's and execution's budget_socket)
    limits: dict[str, BudgetLimit] = {}  # exchange → its public REST weight (limit ``rest``), where the adapter's is wrong
    request_limits: dict[str, dict[str, LimitOverride]] = {}  # exchange → limit name → its replacement
    safety: float = 0.9  # share of the weight any window may see
    burst: float = 0.2  # share of the weight granted at once

    def __post_init__(self) -> None:
        self.budget_limits()  # a bad setting fails when the deployment spec is loaded
        budget_socket_path(self.socket)

    def budget_limits(self) -> dict[str, RequestLimits]:
        """exchange → its limits: the adapter's ``limits.requests``, with ``limits``/``request_limits`` replacing some."""
        if not self.exchanges:
            raise ConfigError(f"{self.name}: exchanges is empty; name the exchanges whose requests it budgets")
        unknown = sorted(set(self.exchanges) - VENUES.keys())
        if unknown:
            raise ConfigError(f"{self.name}: no exchange adapter for {unknown} (known: {sorted(VENUES)})")
        stray = sorted((set(self.limits) | set(self.request_limits)) - set(self.exchanges))
        if stray:
            raise ConfigError(f"{self.name}: limits given for {stray}, which are not in exchanges {self.exchanges}")
        if not 0 < self.burst < self.safety <= 1:
            raise ConfigError(f"{self.name}: need 0 < burst < safety <= 1, not burst={self.burst} safety={self.safety}")
        return {exchange: self._limits_of(exchange) for exchange in self.exchanges}

    def _limits_of(self, exchange: str) -> RequestLimits:
        overrides = dict(self.request_limits.get(exchange, {}))
        rest = self.limits.get(exchange)
        if rest is not None:
            if rest.weight <= 0 or rest.window_s <= 0:
                raise ConfigError(f"{self.name}: limits.{exchange} must be positive, not {rest}")
            overrides["rest"] = LimitOverride(rest.weight, window_s=rest.window_s)
        try:
            declared = VENUES[exchange].limits.request_limits()
        except ValueError:
            if "rest" not in overrides:
                raise ConfigError(
                    f"{self.name}: the {exchange} adapter documents no REST budget; "
                    f"set limits.{exchange}: {{weight: ..., window_s: ...}}"
                ) from None
            declared = rest_only(overrides["rest"].count, overrides["rest"].window_s)
        try:
            return declared.replaced(overrides)
        except ValueError as exc:
            raise ConfigError(f"{self.name}: request_limits.{exchange}: {exc}") from None


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
        scheduler = self._server.scheduler
        grants = CounterMetricFamily(
            "platform_request_budget_grants", "Requests granted, by exchange, scope (ip or account) and kind",
            labels=["daemon", "exchange", "scope", "kind"],
        )  # fmt: skip
        for (exchange, scope, kind), count in scheduler.granted_by.items():
            grants.add_metric([self._daemon, exchange, scope, kind], count)
        yield grants
        backoffs = CounterMetricFamily(
            "platform_request_budget_backoffs", "Backoffs (429/418 Retry-After) told by clients, by exchange and scope",
            labels=["daemon", "exchange", "scope"],
        )  # fmt: skip
        for (exchange, scope), count in scheduler.backoffs_by.items():
            backoffs.add_metric([self._daemon, exchange, scope], count)
        yield backoffs


class SnapshotBudgetDaemon(DaemonLifecycle):
    """Serves the host's request budgets until asked to stop, then removes its socket."""

    settings: SnapshotBudgetSettings

    def __init__(self, settings: SnapshotBudgetSettings) -> None:
        super().__init__(settings)
        wait = Histogram(
            "platform_request_budget_wait_seconds", "Time a request waited for its grant",
            ("daemon", "exchange", "scope", "kind"), buckets=WAIT_BUCKETS, registry=self.metrics.registry,
        )  # fmt: skip
        self.server = SnapshotBudgetServer(
            budget_socket_path(settings.socket), settings.budget_limits(), settings.safety, settings.burst,
            observe_wait=lambda exchange, scope, kind, seconds: wait.labels(settings.name, exchange, scope, kind).observe(seconds),
        )  # fmt: skip
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
                "serving request budgets",
                extra={"socket": str(self.server.socket_path), "budgets": msgspec.to_builtins(self.settings.budget_limits())},
            )
            for exchange, limits in self.settings.budget_limits().items():
                too_dear = unaffordable(limits.limits, limits.costs, self.settings.safety, self.settings.burst)
                if too_dear:  # fine for a host that only fetches snapshots; an order would be refused
                    log.warning(
                        "limits too low for some calls; they will be refused", extra={"exchange": exchange, "calls": too_dear}
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
