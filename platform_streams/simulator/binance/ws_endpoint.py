"""The WebSocket endpoints of the simulated Binance: ``/ws/<stream or listenKey>`` and ``/stream?streams=a/b``.

Connection attempts are metered per IP (HTTP 429 on the upgrade past the limit);
every incoming frame — PING, PONG or JSON request — counts against the per-second
limit, and a connection that exceeds it, or asks for more streams than allowed,
is closed with code 1008 as Binance does. Unknown names in the URL are ignored
(ccxt connects to ``/ws/0`` and subscribes afterwards).
"""

from __future__ import annotations

import logging
import time

from aiohttp import WSMsgType, web

from platform_streams.simulator.binance.stream_hub import StreamConnection, StreamHub, TooManyStreams
from platform_streams.simulator.binance.ws_control import ControlRequests
from platform_streams.simulator.config import WebSocketLimits
from platform_streams.simulator.faults.injector import ExchangeFaults
from platform_streams.simulator.rate_windows import FixedWindowCounter
from platform_streams.simulator.websocket_liveness import CLOSE_POLICY_VIOLATION

log = logging.getLogger(__name__)

_FINISHED = (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR)


class BinanceStreamEndpoint:
    """aiohttp handlers of one venue's stream connections."""

    def __init__(self, hub: StreamHub, limits: WebSocketLimits, faults: ExchangeFaults) -> None:
        self._hub = hub
        self._faults = faults
        self._control = ControlRequests(hub)
        self._limits = limits
        self._attempts = FixedWindowCounter(limits.connection_attempts, limits.connection_interval_s)

    async def raw(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info.get("name", "")
        return await self._serve(request, [name] if name else [], combined=False)

    async def combined(self, request: web.Request) -> web.StreamResponse:
        names = [name for name in request.query.get("streams", "").split("/") if name]
        return await self._serve(request, names, combined=True)

    async def _serve(self, request: web.Request, names: list[str], combined: bool) -> web.StreamResponse:
        peer = request.remote or ""
        if self._attempts.add(peer, 1, time.time()) > self._limits.connection_attempts:
            log.info("refusing a connection attempt over the limit", extra={"peer": peer})
            return web.Response(status=429, text="Too many connection attempts")
        ws = web.WebSocketResponse(autoping=False, compress=False, max_msg_size=1 << 20)
        await ws.prepare(request)
        connection = StreamConnection(ws, request, self._limits.max_buffer_bytes, combined=combined)
        self._hub.attach(connection)
        self._faults.attach(connection)
        try:
            self._hub.subscribe(connection, [name for name in names if self._hub.is_stream(name)])
            await self._read(connection)
        except TooManyStreams:
            await connection.close(CLOSE_POLICY_VIOLATION, "Too many streams")
        finally:
            self._hub.detach(connection)
            self._faults.detach(connection)
        return ws

    async def _read(self, connection: StreamConnection) -> None:
        ws, limit = connection.ws, self._limits.max_incoming_per_second
        while not connection.closed:
            message = await ws.receive()
            if message.type in _FINISHED:
                return
            if connection.count_incoming(time.monotonic()) > limit:
                log.info("closing a connection over the incoming message limit", extra={"peer": connection.peer})
                await connection.close(CLOSE_POLICY_VIOLATION, "Too many requests")
                return
            if message.type is WSMsgType.PING:
                await ws.pong(message.data)
            elif message.type is WSMsgType.PONG:
                connection.on_pong(message.data)
            elif message.type is WSMsgType.TEXT:
                connection.send_now(self._control.handle(connection, message.data))
