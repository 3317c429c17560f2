"""Exchange maintenance as clients see it: REST answers 503 with the exchange's own body, upgrades are refused.

One aiohttp middleware per exchange application, outermost, so nothing behind it
(rate limits, handlers) runs while the exchange is down. Bodies: OKX's 50001,
Kraken's ``EService:Unavailable``, Coinbase's ``{"message": ...}``; Binance has no
maintenance code of its own and answers its upgrade windows with -1001.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import orjson
from aiohttp import web

from platform_streams.simulator.faults.injector import ExchangeFaults

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

MAINTENANCE_BODIES: dict[str, object] = {
    "binance": {"code": -1001, "msg": "Internal error; unable to process your request. Please try again."},
    "okx": {"code": "50001", "data": [], "msg": "Service temporarily unavailable. Please try again later."},
    "kraken": {"error": ["EService:Unavailable"]},
    "coinbase": {"message": "Service Unavailable"},
}


def maintenance_response(exchange: str) -> web.Response:
    """HTTP 503 with the exchange's own body."""
    body = MAINTENANCE_BODIES.get(exchange, {"error": "Service Unavailable"})
    return web.Response(body=orjson.dumps(body), status=503, content_type="application/json")


def maintenance_middleware(faults: ExchangeFaults) -> Callable[..., Awaitable[web.StreamResponse]]:
    """A middleware answering every request with the maintenance body (WebSocket upgrades: a plain 503) during maintenance."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not faults.in_maintenance():
            return await handler(request)
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return web.Response(status=503, text="Service Unavailable: system maintenance")
        return maintenance_response(faults.exchange)

    return middleware
