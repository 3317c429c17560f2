"""The simulated OKX exchange (v5): its aiohttp application, public hub and WebSocket endpoint, public REST, and
the private trading REST over the matching engine."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

from aiohttp import web

from platform_streams.settings import ConfigError
from platform_streams.simulator.market.candle_history import CandleHistory
from platform_streams.simulator.matching.account_report import account_report
from platform_streams.simulator.matching.engine import MatchingEngine
from platform_streams.simulator.okx.book_feed import SNAPSHOT_LEVELS
from platform_streams.simulator.okx.channels import OkxChannel
from platform_streams.simulator.okx.hub import OkxHub
from platform_streams.simulator.okx.instruments import OkxInstruments
from platform_streams.simulator.okx.rest import OkxRest
from platform_streams.simulator.okx.rest_orders import OkxOrderRest
from platform_streams.simulator.okx.user_stream import ORDERS_CHANNEL, PRIVATE_PATH, OkxUserStream
from platform_streams.simulator.okx.ws_endpoint import OkxPublicEndpoint
from platform_streams.simulator.okx.ws_requests import OkxRequests
from platform_streams.simulator.venue_protocol import VenueContext, VenueUrls

PUBLIC_PATH = "/ws/v5/public"


class OkxVenue:
    """OKX v5 protocol (public market data, private trading) over one exchange's simulated market."""

    def __init__(self, context: VenueContext) -> None:
        settings = context.config.okx
        if context.market.parameters.book_depth + context.market.parameters.extra_levels > SNAPSHOT_LEVELS:
            raise ConfigError(
                f"invalid SimulatorConfig setting book_depth: OKX's books channel serves {SNAPSHOT_LEVELS} levels, "
                f"so book_depth must stay below {SNAPSHOT_LEVELS - context.market.parameters.extra_levels}"
            )
        self.name = context.name
        self.market = context.market
        self.instruments = OkxInstruments(context.market.instruments)
        # the private orders channel is recorded after the public channels, under its own code
        exchange_code = context.ground_truth.register_exchange(
            context.name, self.instruments.names, [*(channel.wire_name for channel in OkxChannel), ORDERS_CHANNEL]
        )
        history = CandleHistory(context.config.seed, context.name, context.market.instruments, context.clock.now_ms)
        self.hub = OkxHub(context.market, self.instruments, history, context.ground_truth, exchange_code)
        requests = OkxRequests(self.hub, self.instruments, settings.websocket)
        self._endpoint = OkxPublicEndpoint(self.hub, requests, settings.websocket, context.faults, context.config.seed)
        self._rest = OkxRest(context.market, self.instruments, history, context.clock, settings.rest)
        self.engine = MatchingEngine(context.market, context.clock)
        self.accounts = context.accounts
        self.order_rest = OkxOrderRest(
            self.engine, self.instruments, context.accounts, context.ground_truth, context.clock, settings.rest, context.faults
        )
        self.user_stream = OkxUserStream(
            context.market.instruments,
            self.instruments.names,
            context.accounts,
            context.ground_truth,
            (exchange_code, len(OkxChannel)),
            settings.websocket,
            settings.rest,
            context.faults,
            context.config.seed,
        )
        self.engine.sinks.append(self.user_stream)

    def application(self) -> web.Application:
        app = web.Application()
        app.add_routes(self._rest.routes() + self.order_rest.routes())
        app.add_routes([web.get(PUBLIC_PATH, self._endpoint.public), web.get(PRIVATE_PATH, self.user_stream.private)])
        return app

    def publish(self, now_ns: int) -> None:
        self.hub.publish(self.market.take_batch(), now_ns)

    def flush(self) -> None:
        self.hub.flush()

    def background_tasks(self) -> list[Coroutine[Any, Any, None]]:
        return [self._endpoint.run_liveness()]

    def close_connections(self) -> None:
        for connection in list(self.hub.connections):
            connection.abort()
        self.user_stream.close_connections()

    def account_report(self) -> list[dict[str, object]]:
        return account_report(self.engine, self.accounts, self.instruments.names)

    def urls(self, host: str, port: int) -> VenueUrls:
        return VenueUrls(self.name, rest=f"http://{host}:{port}", websocket=f"ws://{host}:{port}")

    def banner(self, urls: VenueUrls) -> str:
        return f"REST {urls.rest}/api/v5   WS {urls.websocket}{PUBLIC_PATH}   {urls.websocket}{PRIVATE_PATH}"
