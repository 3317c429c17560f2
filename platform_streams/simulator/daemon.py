"""The exchange simulator as a supervised daemon (kind ``exchange-simulator``), so a deployment
such as ``make up``'s runs the simulated exchanges next to the ingestion that connects to them.

Thin glue: the settings become a :class:`SimulatorConfig` (validated when the deployment spec
is loaded), the :class:`Simulator` serves until SIGTERM, and the daemon lifecycle adds what
every daemon has: a metrics endpoint and heartbeats, with ``messages_out`` = messages sent.
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from prometheus_client import Gauge

from platform_streams.runtime.lifecycle import BaseSettings, DaemonLifecycle
from platform_streams.settings import ConfigError
from platform_streams.simulator.config import SimulatorConfig, load_simulator_config
from platform_streams.simulator.server import PROTOCOLS, Simulator

log = logging.getLogger(__name__)


class ExchangeSimulatorSettings(BaseSettings, kw_only=True):
    """The simulator's main knobs, fixed ports (0: any free one), and any further
    :class:`SimulatorConfig` field under ``simulator`` (limits, clock, accounts, book depth...)."""

    exchanges: list[str] = msgspec.field(default_factory=lambda: ["binance"])
    instruments: int = 1000  # per exchange
    rate: float = 2000.0  # order-flow arrivals per second over all exchanges
    seed: int = 7
    host: str = "127.0.0.1"
    ports: dict[str, int] = {}  # exchange → port of its REST and WebSocket server
    control_port: int = 0  # the fault and ground-truth control API
    simulator: dict[str, Any] = {}

    def __post_init__(self) -> None:
        self.simulator_config()  # a bad simulator setting fails when the deployment spec is loaded

    def simulator_config(self) -> SimulatorConfig:
        not_simulated = sorted(set(self.exchanges) - PROTOCOLS.keys())
        if not_simulated:
            raise ConfigError(f"exchanges {not_simulated} are not simulated (available: {sorted(PROTOCOLS)})")
        unknown = sorted(set(self.ports) - set(self.exchanges))
        if unknown:
            raise ConfigError(f"ports given for {unknown}, which are not in exchanges {self.exchanges}")
        values: dict[str, Any] = {
            **self.simulator,
            "exchanges": self.exchanges,
            "instruments": self.instruments,
            "rate": self.rate,
            "seed": self.seed,
            "host": self.host,
            "control_port": self.control_port,
        }
        for exchange, port in self.ports.items():
            values[exchange] = {**values.get(exchange, {}), "port": port}
        return load_simulator_config(values)


class ExchangeSimulatorDaemon(DaemonLifecycle):
    """Serves the simulated exchanges until asked to stop."""

    settings: ExchangeSimulatorSettings

    def __init__(self, settings: ExchangeSimulatorSettings) -> None:
        super().__init__(settings)
        self.simulator = Simulator(settings.simulator_config())
        registry = self.metrics.registry
        self._lag = Gauge(
            "platform_simulator_lag_seconds",
            "How far simulated time is behind real time (grows when the rate is too high for the machine)",
            ("daemon",),
            registry=registry,
        ).labels(settings.name)
        self._lag.set_function(lambda: self.simulator.lag_s)  # read at each scrape
        self._connections = Gauge(
            "platform_simulator_connections", "Open WebSocket connections", ("daemon",), registry=registry
        ).labels(settings.name)

    def run(self) -> None:
        self.run_event_loop(self._main)
        log.info("exchange simulator stopped", extra={"messages": self.messages_out})

    async def _main(self) -> None:
        if self.stopping:
            return
        await self.simulator.start()
        try:
            for name, urls in self.simulator.urls.items():
                log.info("serving", extra={"exchange": name, "endpoints": self.simulator.venues[name].banner(urls)})
            log.info("control API", extra={"url": self.simulator.control_url})
            await self.serve_until_stopped(self._report)
        finally:
            self._state = "stopping"
            await self.simulator.stop()

    def _report(self) -> None:
        ground_truth = self.simulator.ground_truth
        sent = len(ground_truth) + ground_truth.dropped_events
        self.metrics.messages_out.inc(sent - self.messages_out)
        self.messages_out = sent
        self._connections.set(len(self.simulator.faults.connections()))
        self.send_heartbeat([])
