"""What the server needs from an exchange protocol package (``simulator/binance/``, ``okx/``, ``kraken/``).

A venue turns its market's events into the exchange's wire format after every
quantum, serves its REST and WebSocket API from one aiohttp application, and runs
its own background tasks (pings, heartbeats, key expiry). It attaches each
WebSocket connection to its exchange's fault injector. The server owns the sockets, the clock and the
start/stop order.
"""

from __future__ import annotations

from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web

from platform_streams.simulator.clock import SimClock
from platform_streams.simulator.config import SimulatorConfig
from platform_streams.simulator.faults.injector import ExchangeFaults
from platform_streams.simulator.ground_truth import GroundTruth
from platform_streams.simulator.market.venue_market import VenueMarket
from platform_streams.simulator.matching.accounts import AccountRegistry


@dataclass(frozen=True, slots=True)
class VenueUrls:
    """Where clients reach one simulated exchange."""

    exchange: str
    rest: str  # base URL of the REST API (ccxt: urls.api.public / private)
    websocket: str  # base URL of the WebSocket API


@dataclass(frozen=True, slots=True)
class VenueContext:
    """Everything a protocol package gets to build its venue."""

    name: str
    market: VenueMarket
    clock: SimClock
    ground_truth: GroundTruth
    accounts: AccountRegistry
    config: SimulatorConfig
    faults: ExchangeFaults


class ExchangeVenue(Protocol):
    """One simulated exchange speaking one protocol."""

    name: str
    market: VenueMarket

    def application(self) -> web.Application: ...

    def publish(self, now_ns: int) -> None:
        """Render the market's events of the quantum ending at ``now_ns`` and queue them on the
        subscribed connections."""
        ...

    def flush(self) -> None:
        """Write every connection's queued frames in one call each, and record them as emitted now."""
        ...

    def background_tasks(self) -> list[Coroutine[Any, Any, None]]: ...

    def close_connections(self) -> None: ...

    def urls(self, host: str, port: int) -> VenueUrls: ...

    def account_report(self) -> list[dict[str, object]]:
        """Every account's balances and order log on this venue (``matching/account_report.py``)."""
        ...

    def banner(self, urls: VenueUrls) -> str:
        """One line for the console: where the REST API and the WebSocket endpoints are."""
        ...
