"""The exchange simulator server: the market world, one HTTP + WebSocket port per exchange, and the clock.

:class:`Simulator` runs on an asyncio loop (``await start()`` / ``await stop()``);
:class:`SimulatorThread` runs one on its own loop in a background thread for
synchronous code and tests; :func:`run_simulator` is what ``tradeplat simulate``
calls. With ``clock="realtime"`` a driver task steps the world as many quanta as
real time has advanced (catching up in bursts if the loop was busy, so the content
never depends on timing); with ``clock="manual"`` only :meth:`Simulator.step` moves it.
Faults are injected through :attr:`Simulator.faults` (or the HTTP control API on
its own port, :attr:`Simulator.control_url`).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from aiohttp import web

from platform_streams.runtime import event_loop
from platform_streams.settings import ConfigError
from platform_streams.simulator.binance.venue import BinanceVenue
from platform_streams.simulator.clock import SimClock
from platform_streams.simulator.config import SimulatorConfig, load_simulator_config
from platform_streams.simulator.control_api import ControlApi
from platform_streams.simulator.faults import FaultController, FaultSpec
from platform_streams.simulator.faults.frame_inspection import FRAME_READERS
from platform_streams.simulator.faults.injector import ExchangeFaults
from platform_streams.simulator.faults.maintenance import maintenance_middleware
from platform_streams.simulator.ground_truth import GroundTruth
from platform_streams.simulator.kraken.venue import KrakenVenue
from platform_streams.simulator.market.price_model import PriceModelParameters
from platform_streams.simulator.market.universe import UniverseError
from platform_streams.simulator.market.venue_market import MarketParameters
from platform_streams.simulator.market.world import MarketWorld
from platform_streams.simulator.matching.accounts import AccountRegistry
from platform_streams.simulator.okx.venue import OkxVenue
from platform_streams.simulator.venue_protocol import ExchangeVenue, VenueContext, VenueUrls

log = logging.getLogger(__name__)

#: Protocol packages by exchange name.
PROTOCOLS: dict[str, Callable[[VenueContext], ExchangeVenue]] = {"binance": BinanceVenue, "okx": OkxVenue, "kraken": KrakenVenue}
_MAX_CATCH_UP_QUANTA = 20  # quanta caught up in one run (yielding to the loop between pieces, written at its end)
_LAG_WARNING_S = 1.0

T = TypeVar("T")


class Simulator:
    """Every configured exchange, served on its own port, over one simulated market."""

    def __init__(self, config: SimulatorConfig) -> None:
        unknown = [name for name in config.exchanges if name not in PROTOCOLS]
        if unknown:
            raise ConfigError(
                f"invalid SimulatorConfig setting exchanges: {unknown} not implemented (available: {sorted(PROTOCOLS)})"
            )
        self.config = config
        epoch_ns = config.epoch_ms * 1_000_000 if config.epoch_ms is not None else time.time_ns() // 1_000_000 * 1_000_000
        self.clock = SimClock(epoch_ns, config.quantum_ms * 1_000_000)
        try:
            self.world = MarketWorld(
                config.seed,
                dict.fromkeys(config.exchanges, config.instruments),
                config.rate,
                self.clock,
                MarketParameters(book_depth=config.book_depth, history_minutes=config.candle_history_minutes),
                PriceModelParameters(volatility_scale=config.volatility_scale),
            )
        except UniverseError as exc:
            raise ConfigError(f"invalid SimulatorConfig setting instruments: {exc}") from None
        self.ground_truth = GroundTruth(config.ground_truth_max_events)
        fault_injectors = {name: ExchangeFaults(name, FRAME_READERS[name], self.ground_truth) for name in config.exchanges}
        self.faults = FaultController(fault_injectors, config.seed)
        self.venues: dict[str, ExchangeVenue] = {
            name: PROTOCOLS[name](
                VenueContext(
                    name,
                    self.world.venues[name],
                    self.clock,
                    self.ground_truth,
                    AccountRegistry(config.accounts),
                    config,
                    fault_injectors[name],
                )
            )
            for name in config.exchanges
        }
        self.urls: dict[str, VenueUrls] = {}
        self.control_url = ""
        self._runners: list[web.AppRunner] = []
        self._tasks: list[asyncio.Task[None]] = []
        self.lag_s = 0.0  # how far simulated time is behind real time now (real-time clock)
        self.max_lag_s = 0.0  # ... and at worst

    async def start(self) -> None:
        """Bind every exchange's port (``config.<exchange>.port``, 0 = any free one) and start the clock."""
        for name, venue in self.venues.items():
            application = venue.application()
            application.middlewares.insert(0, maintenance_middleware(self.faults.exchanges[name]))
            runner = web.AppRunner(application, access_log=None, handle_signals=False, shutdown_timeout=1.0)
            await runner.setup()
            self._runners.append(runner)
            site = web.TCPSite(runner, self.config.host, self._port_of(name), reuse_address=True)
            await site.start()
            port = int(runner.addresses[0][1])
            self.urls[name] = venue.urls(self.config.host, port)
            log.info(
                "simulated exchange listening",
                extra={"exchange": name, "rest": self.urls[name].rest, "websocket": self.urls[name].websocket},
            )
            self._tasks += [asyncio.create_task(task) for task in venue.background_tasks()]
        control = ControlApi(
            self.faults, self.ground_truth, lambda: self.urls, accounts=self.account_reports,
            set_order_flow_rate=self.world.set_order_flow_rate, order_flow_state=self.order_flow_state,
        )  # fmt: skip
        runner = web.AppRunner(control.application(), access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        self._runners.append(runner)
        await web.TCPSite(runner, self.config.host, self.config.control_port, reuse_address=True).start()
        self.control_url = f"http://{self.config.host}:{int(runner.addresses[0][1])}/_control"
        if self.config.clock == "realtime":
            self._tasks.append(asyncio.create_task(self._drive()))

    def _port_of(self, exchange: str) -> int:
        settings = getattr(self.config, exchange, None)
        return int(getattr(settings, "port", 0))

    async def stop(self) -> None:
        """Stop the clock, drop every connection, close the ports."""
        self.faults.shutdown()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        for venue in self.venues.values():
            venue.close_connections()
        for runner in self._runners:
            await runner.cleanup()
        self._runners = []

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def order_flow_state(self) -> dict[str, float]:
        """The order-flow rate asked for, and how far simulated time is behind real time (now, at worst)."""
        return {"rate": self.world.order_flow_rate(), "lag_s": self.lag_s, "max_lag_s": self.max_lag_s}

    def account_reports(self) -> dict[str, object]:
        """Per exchange, every account's balances and order log (call on the loop)."""
        return {name: venue.account_report() for name, venue in self.venues.items()}

    def step(self, quanta: int = 1) -> None:
        """Advance the world ``quanta`` quanta and publish each to the connected clients (call on the loop)."""
        for _ in range(quanta):
            deque(self._quantum(), maxlen=0)  # every piece, without yielding to the loop
            self._flush()

    def _quantum(self) -> Iterator[None]:
        """One quantum in pieces: the world steps, then each venue renders and queues its frames;
        yields before each publication, where the running clock lets the loop serve requests."""
        self.world.step()
        now_ns = self.clock.now_ns
        for venue in self.venues.values():
            yield
            venue.publish(now_ns)

    def _flush(self) -> None:
        for venue in self.venues.values():
            venue.flush()

    async def catch_up(self, quanta: int) -> None:
        """Run ``quanta`` quanta, yielding to the loop between their pieces (a request waits for
        one piece of work, not a whole run), and write each connection once, at the end.

        The real-time clock runs one quantum at a time while on time, and up to 20 when behind:
        those frames are late anyway and go out in one burst, as from an exchange under load,
        rather than one write per connection and quantum (docs/operations.md, market-data
        capacity: per-quantum writes cost Kafka and ingestion a third more per frame). A reply
        to a request is never held: it writes its connection's queued frames with it, in order."""
        for _ in range(quanta):
            for _piece in self._quantum():
                await asyncio.sleep(0)
        self._flush()

    async def _drive(self) -> None:
        quantum_ns = self.clock.quantum_ns
        started = time.monotonic_ns()
        done, last_warning = 0, 0.0
        while True:
            behind = (time.monotonic_ns() - started) // quantum_ns - done
            batch = min(behind, _MAX_CATCH_UP_QUANTA)
            if batch > 0:
                await self.catch_up(batch)
            done += max(batch, 0)
            lag_s = self.lag_s = (behind - batch) * quantum_ns / 1e9
            self.max_lag_s = max(self.max_lag_s, lag_s)
            if lag_s > _LAG_WARNING_S and time.monotonic() - last_warning > 10.0:
                last_warning = time.monotonic()
                log.warning(
                    "simulated time is behind real time: the rate is too high for this machine", extra={"lag_s": round(lag_s, 3)}
                )
            if behind > batch:
                await asyncio.sleep(0)
                continue
            await asyncio.sleep(max(0.0, (started + (done + 1) * quantum_ns - time.monotonic_ns()) / 1e9))


class SimulatorThread:
    """A :class:`Simulator` on its own event loop in a daemon thread; use as a context manager."""

    def __init__(self, config: SimulatorConfig, start_timeout_s: float = 30.0) -> None:
        self.simulator = Simulator(config)
        self._timeout = start_timeout_s
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="exchange-simulator", daemon=True)

    def start(self) -> SimulatorThread:
        self._thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self.simulator.start(), self._loop).result(self._timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        try:
            asyncio.run_coroutine_threadsafe(self.simulator.stop(), self._loop).result(self._timeout)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(self._timeout)
            self._loop.close()

    def __enter__(self) -> SimulatorThread:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def call(self, function: Callable[..., T], *args: Any) -> T:
        """Run ``function(*args)`` on the simulator's loop and return its result (a consistent view of its state)."""

        async def run() -> T:
            return function(*args)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(self._timeout)

    def quiesce(self, quanta: int = 50) -> None:
        """Stop the simulated order flow and run the clock ``quanta`` more quanta, so every batched
        publication (book channels, tickers) has gone out and the books are at rest."""
        self.call(self.simulator.world.pause_order_flow)
        self.call(self.simulator.step, quanta)

    def step(self, quanta: int = 1) -> None:
        """Advance a manual clock by ``quanta`` quanta, each written as it is published."""
        self.call(self.simulator.step, quanta)

    def catch_up(self, quanta: int) -> None:
        """Advance a manual clock by ``quanta`` quanta as the real-time clock catches up (written at the end)."""
        asyncio.run_coroutine_threadsafe(self.simulator.catch_up(quanta), self._loop).result(self._timeout)

    @property
    def urls(self) -> dict[str, VenueUrls]:
        return self.simulator.urls

    @property
    def control_url(self) -> str:
        return self.simulator.control_url

    def inject_fault(self, spec: FaultSpec | None = None, **fields: Any) -> int:
        """Inject a fault (a :class:`FaultSpec`, or its fields: ``kind="gap", exchange="okx"``); returns its id."""
        return self.call(self.simulator.faults.inject, spec if spec is not None else fields)

    def clear_faults(self, fault_id: int | None = None) -> list[int]:
        """End one fault, or every fault in force; returns the ids ended."""
        return self.call(self.simulator.faults.clear, fault_id)

    def connections(self) -> list[dict[str, object]]:
        """Open WebSocket connections: exchange, connection id (what a fault's ``connection`` names), peer."""
        return self.call(self.simulator.faults.connections)

    @property
    def ground_truth(self) -> GroundTruth:
        return self.simulator.ground_truth

    def accounts(self) -> dict[str, object]:
        """Per exchange, every account's balances and order log with fills (a consistent view, taken on the loop)."""
        return self.call(self.simulator.account_reports)


def run_simulator(
    exchanges: Sequence[str],
    instruments: int,
    rate: float,
    seed: int,
    host: str = "127.0.0.1",
    ports: dict[str, int] | None = None,
    print_line: Callable[[str], None] = print,
    **settings: Any,
) -> int:
    """Run the simulator in the foreground until SIGINT/SIGTERM; prints every exchange's URLs once listening."""
    values: dict[str, Any] = {
        "exchanges": list(exchanges),
        "instruments": instruments,
        "rate": rate,
        "seed": seed,
        "host": host,
        **settings,
    }
    for exchange, port in (ports or {}).items():
        values.setdefault(exchange, {})["port"] = port
    config = load_simulator_config(values)
    event_loop.run(_serve_forever(config, print_line))
    return 0


async def _serve_forever(config: SimulatorConfig, print_line: Callable[[str], None]) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    simulator = Simulator(config)
    await simulator.start()
    try:
        print_line(
            f"exchange simulator: seed {config.seed}, {config.instruments} instruments per exchange, {config.rate:g} events/s"
        )
        for name, urls in simulator.urls.items():
            print_line(f"  {urls.exchange:<8} {simulator.venues[name].banner(urls)}")
        print_line(f"  control  {simulator.control_url}/faults   {simulator.control_url}/ground_truth/summary")
        print_line("Ctrl-C stops it.")
        await stop.wait()
    finally:
        await simulator.stop()
