"""The simulated Kraken exchange: WebSocket v1 (``/``) and v2 (``/v2``) market data, public REST, and private
REST trading over the matching engine, on one simulated market."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

from aiohttp import web

from platform_streams.simulator.kraken.channels import CHANNEL_NAMES
from platform_streams.simulator.kraken.hub import KrakenHub
from platform_streams.simulator.kraken.pairs import KrakenPairs
from platform_streams.simulator.kraken.rest import KrakenRest
from platform_streams.simulator.kraken.rest_orders import KrakenOrderRest
from platform_streams.simulator.kraken.user_stream import EXECUTIONS_CHANNEL, PRIVATE_V2_PATH, KrakenUserStream
from platform_streams.simulator.kraken.v2.hub import KrakenV2Hub
from platform_streams.simulator.kraken.v2.requests import KrakenV2Requests
from platform_streams.simulator.kraken.ws_endpoint import KrakenEndpoint
from platform_streams.simulator.kraken.ws_events import KrakenEvents
from platform_streams.simulator.market.candle_history import CandleHistory
from platform_streams.simulator.matching.account_report import account_report
from platform_streams.simulator.matching.engine import MatchingEngine
from platform_streams.simulator.rate_windows import FixedWindowCounter
from platform_streams.simulator.venue_protocol import VenueContext, VenueUrls

V2_PATH = "/v2"


class KrakenVenue:
    """Kraken WebSocket v1 and v2 protocols and public REST over one exchange's simulated market.

    Both WebSocket versions see the same books and trades. v1's messages are in the ground
    truth under the venue's name (``kraken``), v2's under ``<name>v2`` (``krakenv2``: the
    platform's name for the v2 venue too)."""

    def __init__(self, context: VenueContext) -> None:
        settings = context.config.kraken
        self.name = context.name
        self.market = context.market
        self.pairs = KrakenPairs(context.market.instruments)
        # the private executions channel is recorded after the public v1 channels, under its own code
        exchange_code = context.ground_truth.register_exchange(
            context.name, self.pairs.wsnames, [*CHANNEL_NAMES, EXECUTIONS_CHANNEL]
        )
        history = CandleHistory(context.config.seed, context.name, context.market.instruments, context.clock.now_ms)
        heartbeat_ms = max(1, round(settings.websocket.heartbeat_interval_s * 1000))
        self.hub = KrakenHub(context.market, self.pairs, history, context.ground_truth, exchange_code, heartbeat_ms)
        self.v2_hub = KrakenV2Hub(context.market, self.pairs, history, context.ground_truth, f"{context.name}v2", heartbeat_ms)
        limits = settings.websocket
        attempts = FixedWindowCounter(limits.connection_attempts, limits.connection_interval_s)
        seed = context.config.seed
        v1_requests, v2_requests = KrakenEvents(self.hub, self.pairs), KrakenV2Requests(self.v2_hub, self.pairs)
        self._endpoint = KrakenEndpoint(
            self.hub.subscriptions, v1_requests, limits, attempts, context.faults, context.clock, seed, "kraken-connections"
        )
        self._v2_endpoint = KrakenEndpoint(
            self.v2_hub.subscriptions, v2_requests, limits, attempts, context.faults, context.clock, seed, "kraken-v2-connections"
        )
        self._rest = KrakenRest(context.market, self.pairs, history, context.clock, settings.rest)
        self.engine = MatchingEngine(context.market, context.clock)
        self.accounts = context.accounts
        self.order_rest = KrakenOrderRest(
            self.engine, self.pairs, context.accounts, context.ground_truth, context.clock, settings.rest, context.faults
        )
        self.user_stream = KrakenUserStream(
            self.engine,
            self.pairs.v2_names,
            context.accounts,
            self.order_rest.account_of_token,
            context.ground_truth,
            (exchange_code, len(CHANNEL_NAMES)),
            settings.websocket,
            settings.rest.order_counter_max,
            context.faults,
            seed,
        )
        self.engine.sinks.append(self.user_stream)

    def application(self) -> web.Application:
        app = web.Application()
        app.add_routes(self._rest.routes() + self.order_rest.routes())
        app.add_routes(
            [
                web.get("/", self._endpoint.websocket),
                web.get(V2_PATH, self._v2_endpoint.websocket),
                web.get(PRIVATE_V2_PATH, self.user_stream.private),
            ]
        )
        return app

    def publish(self, now_ns: int) -> None:
        batch = self.market.take_batch()
        self.hub.publish(batch, now_ns)
        self.v2_hub.publish(batch, now_ns)

    def flush(self) -> None:
        self.hub.flush()
        self.v2_hub.flush()

    def background_tasks(self) -> list[Coroutine[Any, Any, None]]:
        return []

    def close_connections(self) -> None:
        for connection in [*self.hub.subscriptions.connections, *self.v2_hub.subscriptions.connections]:
            connection.abort()
        self.user_stream.close_connections()

    def account_report(self) -> list[dict[str, object]]:
        return account_report(self.engine, self.accounts, self.pairs.wsnames)

    def urls(self, host: str, port: int) -> VenueUrls:
        return VenueUrls(self.name, rest=f"http://{host}:{port}", websocket=f"ws://{host}:{port}")

    def banner(self, urls: VenueUrls) -> str:
        return (
            f"REST {urls.rest}/0/public /0/private   WS {urls.websocket}/ (v1)   WS {urls.websocket}{V2_PATH} (v2)"
            f"   WS {urls.websocket}{PRIVATE_V2_PATH} (v2 authenticated)"
        )
