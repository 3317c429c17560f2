"""The simulated Binance spot exchange: its aiohttp application, stream hub, matching engine and limits."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from aiohttp import web

from platform_streams.simulator.binance.errors import BinanceError
from platform_streams.simulator.binance.exchange_info import ExchangeInfo
from platform_streams.simulator.binance.http import error_response
from platform_streams.simulator.binance.rate_limits import RequestLimiter, request_weight
from platform_streams.simulator.binance.rest_market import BinanceMarketRest
from platform_streams.simulator.binance.rest_orders import BinanceOrderRest
from platform_streams.simulator.binance.rest_user_stream import BinanceUserStreamRest
from platform_streams.simulator.binance.stream_hub import StreamHub
from platform_streams.simulator.binance.streams import BinanceSymbols, Channel
from platform_streams.simulator.binance.user_stream import BinanceUserStream, ListenKeys
from platform_streams.simulator.binance.ws_endpoint import BinanceStreamEndpoint
from platform_streams.simulator.market.candle_history import CandleHistory
from platform_streams.simulator.matching.account_report import account_report
from platform_streams.simulator.matching.engine import MatchingEngine
from platform_streams.simulator.venue_protocol import VenueContext, VenueUrls
from platform_streams.simulator.websocket_liveness import WebSocketLiveness

log = logging.getLogger(__name__)

_STREAM_PATHS = ("/ws", "/stream")
_LISTEN_KEY_SWEEP_S = 5.0


class BinanceVenue:
    """Binance spot protocol over one exchange's simulated market."""

    def __init__(self, context: VenueContext) -> None:
        settings = context.config.binance
        self.name = context.name
        self.market = context.market
        self.symbols = BinanceSymbols(context.market.instruments)
        self.engine = MatchingEngine(context.market, context.clock)
        self.accounts = context.accounts
        channels = [channel.suffix for channel in Channel]
        # account events (outboundAccountPosition) are recorded under a symbol of their own, ""
        exchange_code = context.ground_truth.register_exchange(context.name, [*self.symbols.names, ""], channels)
        self.listen_keys = ListenKeys(settings.listen_key_ttl_s)
        self.hub = StreamHub(
            context.market,
            self.symbols,
            context.ground_truth,
            exchange_code,
            settings.websocket.max_streams_per_connection,
            self.listen_keys.is_valid,
        )
        self.engine.sinks.append(BinanceUserStream(self.hub, self.listen_keys, self.symbols, context.market.instruments))
        self.limiter = RequestLimiter(settings.rest)
        history = CandleHistory(context.config.seed, context.name, context.market.instruments, context.clock.now_ms)
        exchange_info = ExchangeInfo(self.symbols.names, context.market.instruments, settings.rest)
        self._market_rest = BinanceMarketRest(context.market, self.symbols, exchange_info, history, context.clock)
        self._order_rest = BinanceOrderRest(
            self.engine,
            self.symbols,
            context.accounts,
            self.limiter,
            context.ground_truth,
            context.clock,
            settings.rest.max_recv_window_ms,
            context.faults,
        )
        self._user_stream_rest = BinanceUserStreamRest(self.listen_keys, context.accounts, self.hub)
        self._endpoint = BinanceStreamEndpoint(self.hub, settings.websocket, context.faults)
        self._liveness = WebSocketLiveness(settings.websocket, lambda: self.hub.connections)

    def application(self) -> web.Application:
        app = web.Application(middlewares=[self._limits_middleware])
        app.add_routes(self._market_rest.routes() + self._order_rest.routes() + self._user_stream_rest.routes())
        app.add_routes(
            [
                web.get("/ws", self._endpoint.raw),
                web.get("/ws/{name}", self._endpoint.raw),
                web.get("/stream", self._endpoint.combined),
            ]
        )
        return app

    @web.middleware
    async def _limits_middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if request.path.startswith(_STREAM_PATHS):
            return await handler(request)
        try:
            headers = self.limiter.admit(
                request.remote or "", request_weight(request.method, request.path, request.query), time.time()
            )
        except BinanceError as exc:
            return error_response(exc)
        try:
            response = await handler(request)
        except BinanceError as exc:
            response = error_response(exc)
        response.headers.update(headers)
        return response

    def publish(self, now_ns: int) -> None:
        self.hub.publish(self.market.take_batch(), now_ns)

    def flush(self) -> None:
        self.hub.flush()

    def background_tasks(self) -> list[Coroutine[Any, Any, None]]:
        return [self._liveness.run(), self._expire_listen_keys()]

    async def _expire_listen_keys(self) -> None:
        while True:
            await asyncio.sleep(min(_LISTEN_KEY_SWEEP_S, self.listen_keys.ttl_s / 2))
            for key in self.listen_keys.expire():
                log.info("listenKey expired", extra={"exchange": self.name})
                for connection in self.hub.drop_listen_key(key):
                    connection.streams.pop(key, None)

    def close_connections(self) -> None:
        for connection in list(self.hub.connections):
            connection.abort()

    def account_report(self) -> list[dict[str, object]]:
        return account_report(self.engine, self.accounts, self.symbols.names)

    def urls(self, host: str, port: int) -> VenueUrls:
        return VenueUrls(self.name, rest=f"http://{host}:{port}", websocket=f"ws://{host}:{port}")

    def banner(self, urls: VenueUrls) -> str:
        return f"REST {urls.rest}/api/v3   WS {urls.websocket}/ws/<stream>   {urls.websocket}/stream?streams=<a>/<b>"
