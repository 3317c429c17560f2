"""The Kraken WebSocket v1 endpoint (``/``, as ``wss://ws.kraken.com``): systemStatus on connect, then events.

Connection attempts are metered per IP (HTTP 429 on the upgrade past the limit).
Every connection gets its ``systemStatus`` (with a 64-bit ``connectionID``, as in
the capture) before anything else; protocol-level pings are answered by aiohttp.
"""

from __future__ import annotations

import logging
import random
import time

from aiohttp import WSMsgType, web

from platform_streams.simulator.clock import SimClock
from platform_streams.simulator.config import KrakenWebSocketLimits
from platform_streams.simulator.faults.injector import ExchangeFaults
from platform_streams.simulator.kraken import frames
from platform_streams.simulator.kraken.channels import KrakenConnection
from platform_streams.simulator.kraken.hub import KrakenHub
from platform_streams.simulator.kraken.ws_events import KrakenEvents
from platform_streams.simulator.market.universe import stable_seed
from platform_streams.simulator.rate_windows import FixedWindowCounter

log = logging.getLogger(__name__)

_FINISHED = (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR)


class KrakenEndpoint:
    """aiohttp handler of the v1 WebSocket endpoint."""

    def __init__(
        self,
        hub: KrakenHub,
        events: KrakenEvents,
        limits: KrakenWebSocketLimits,
        attempts: FixedWindowCounter,
        faults: ExchangeFaults,
        clock: SimClock,
        seed: int,
    ) -> None:
        self._hub = hub
        self._events = events
        self._limits = limits
        self._faults = faults
        self._clock = clock
        self._attempts = attempts  # connection attempts per IP, shared with the v2 endpoint (Kraken meters the host)
        self._connection_numbers = random.Random(stable_seed("kraken-connections", seed))

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        peer = request.remote or ""
        if self._attempts.add(peer, 1, time.time()) > self._limits.connection_attempts:
            log.info("refusing a connection attempt over the limit", extra={"peer": peer})
            return web.Response(status=429, text="Too Many Requests")
        ws = web.WebSocketResponse(autoping=True, compress=False, max_msg_size=1 << 20)
        await ws.prepare(request)
        connection = KrakenConnection(ws, request, self._limits.max_buffer_bytes, self._connection_numbers.getrandbits(64))
        self._hub.attach(connection)
        self._faults.attach(connection)
        try:
            connection.send_now(frames.system_status(connection.connection_number))
            while not connection.closed:
                message = await ws.receive()
                if message.type in _FINISHED:
                    break
                if message.type is WSMsgType.TEXT:
                    connection.pending.extend(self._events.handle(connection, message.data, self._clock.now_ms))
                    connection.flush()
        finally:
            self._hub.detach(connection)
            self._faults.detach(connection)
        return ws
