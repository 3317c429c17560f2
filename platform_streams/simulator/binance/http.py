"""HTTP plumbing of the simulated Binance: parameters from query and body, JSON replies, error replies."""

from __future__ import annotations

import orjson
from aiohttp import web

from platform_streams.simulator.binance.errors import BinanceError
from platform_streams.simulator.binance.params import RequestParams

_PARAMS_KEY = web.RequestKey("binance_params", RequestParams)


async def read_params(request: web.Request) -> RequestParams:
    """The request's parameters: query string and (for POST/PUT/DELETE) the form body; read once per request."""
    params = request.get(_PARAMS_KEY)
    if params is None:
        body = await request.text() if request.can_read_body else ""
        params = request[_PARAMS_KEY] = RequestParams(request.query_string, body)
    return params


def json_response(body: object, headers: dict[str, str] | None = None) -> web.Response:
    data = body if isinstance(body, bytes) else orjson.dumps(body)
    return web.Response(body=data, content_type="application/json", headers=headers)


def error_response(error: BinanceError) -> web.Response:
    return web.Response(
        body=orjson.dumps({"code": error.code, "msg": error.msg}),
        status=error.status,
        content_type="application/json",
        headers=error.headers,
    )
