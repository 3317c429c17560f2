"""``POST/PUT/DELETE /api/v3/userDataStream``: listenKeys of user data streams (API key, no signature)."""

from __future__ import annotations

from aiohttp import web

from platform_streams.simulator.binance.auth import account_for_key
from platform_streams.simulator.binance.http import json_response, read_params
from platform_streams.simulator.binance.stream_hub import StreamHub
from platform_streams.simulator.binance.user_stream import ListenKeys
from platform_streams.simulator.matching.accounts import AccountRegistry


class BinanceUserStreamRest:
    """Handlers that create, keep alive and close listenKeys."""

    def __init__(self, listen_keys: ListenKeys, accounts: AccountRegistry, hub: StreamHub) -> None:
        self._keys = listen_keys
        self._accounts = accounts
        self._hub = hub

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/api/v3/userDataStream", self.create),
            web.put("/api/v3/userDataStream", self.keepalive),
            web.delete("/api/v3/userDataStream", self.close),
        ]

    async def create(self, request: web.Request) -> web.Response:
        account = account_for_key(request.headers.get("X-MBX-APIKEY"), self._accounts)
        return json_response({"listenKey": self._keys.create(account)})

    async def keepalive(self, request: web.Request) -> web.Response:
        account = account_for_key(request.headers.get("X-MBX-APIKEY"), self._accounts)
        self._keys.keepalive(account, (await read_params(request)).required_text("listenKey"))
        return json_response({})

    async def close(self, request: web.Request) -> web.Response:
        account = account_for_key(request.headers.get("X-MBX-APIKEY"), self._accounts)
        key = (await read_params(request)).required_text("listenKey")
        self._keys.close(account, key)
        for connection in self._hub.drop_listen_key(key):
            connection.streams.pop(key, None)
        return json_response({})
