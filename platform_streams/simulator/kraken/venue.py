"""The simulated Kraken exchange: WebSocket v1 market data and public REST over one simulated market."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

from aiohttp import web

from platform_streams.simulator.kraken.channels import CHANNEL_NAMES
from platform_streams.simulator.kraken.hub import KrakenHub
from platform_streams.simulator.kraken.pairs import KrakenPairs
from platform_streams.simulator.kraken.rest import KrakenRest
from platform_streams.simulator.kraken.ws_endpoint import KrakenEndpoint
from platform_streams.simulator.kraken.ws_events import KrakenEvents
from platform_streams.simulator.market.candle_history import CandleHistory
from platform_streams.simulator.venue_protocol import VenueContext, VenueUrls


class KrakenVenue:
    """Kraken WebSocket v1 protocol and public REST over one exchange's simulated market."""

    def __init__(self, context: VenueContext) -> None:
        settings = context.config.kraken
        self.name = context.name
        self.market = context.market
        self.pairs = KrakenPairs(context.market.instruments)
        exchange_code = context.ground_truth.register_exchange(context.name, self.pairs.wsnames, CHANNEL_NAMES)
        history = CandleHistory(context.config.seed, context.name, context.market.instruments, context.clock.now_ms)
        self.hub = KrakenHub(
            context.market,
            self.pairs,
            history,
            context.ground_truth,
            exchange_code,
            max(1, round(settings.websocket.heartbeat_interval_s * 1000)),
        )
        self._endpoint = KrakenEndpoint(
            self.hub,
            KrakenEvents(self.hub, self.pairs),
            settings.websocket,
            context.faults,
            context.clock,
            context.config.seed,
        )
        self._rest = KrakenRest(context.market, self.pairs, history, context.clock, settings.rest)

    def application(self) -> web.Application:
        app = web.Application()
        app.add_routes(self._rest.routes())
        app.add_routes([web.get("/", self._endpoint.websocket)])
        return app

    def publish(self, now_ns: int) -> None:
        self.hub.publish(self.market.take_batch(), now_ns)

    def background_tasks(self) -> list[Coroutine[Any, Any, None]]:
        return []

    def close_connections(self) -> None:
        for connection in list(self.hub.connections):
            connection.abort()

    def urls(self, host: str, port: int) -> VenueUrls:
        return VenueUrls(self.name, rest=f"http://{host}:{port}", websocket=f"ws://{host}:{port}")

    def banner(self, urls: VenueUrls) -> str:
        return f"REST {urls.rest}/0/public   WS {urls.websocket}/ (v1)"
