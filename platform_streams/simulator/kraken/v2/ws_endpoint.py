"""The Kraken WebSocket v2 endpoint (``/v2``, as ``wss://ws.kraken.com/v2``): a ``status`` message on
connect, then request replies and subscribed data.

Connection attempts count against the same per-IP limit as v1's (Kraken meters the host,
HTTP 429 on the upgrade past it). Every connection gets its ``status`` (with a 64-bit
``connection_id``, as in the captures) before anything else; protocol-level pings are
answered by aiohttp. Connections are attached to the venue's fault injector, like v1's.
"""

from __future__ import annotations

import logging
import random
import time

from aiohttp import WSMsgType, web

from platform_streams.simulator.clock import SimClock
from platform_streams.simulator.config import KrakenWebSocketLimits
from platform_streams.simulator.faults.injector import ExchangeFaults
from platform_streams.simulator.kraken.v2 import frames
from platform_streams.simulator.kraken.v2.channels import KrakenV2Connection
from platform_streams.simulator.kraken.v2.hub import KrakenV2Hub
from platform_streams.simulator.kraken.v2.requests import KrakenV2Requests
from platform_streams.simulator.market.universe import stable_seed
from platform_streams.simulator.rate_windows import FixedWindowCounter

log = logging.getLogger(__name__)

_FINISHED = (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR)


class KrakenV2Endpoint:
    """aiohttp handler of the v2 WebSocket endpoint."""

    def __init__(
        self,
        hub: KrakenV2Hub,
        requests: KrakenV2Requests,
        limits: KrakenWebSocketLimits,
        attempts: FixedWindowCounter,
        faults: ExchangeFaults,
        clock: SimClock,
        seed: int,
    ) -> None:
        self._hub = hub
        self._requests = requests
        self._limits = limits
        self._attempts = attempts
        self._faults = faults
        self._clock = clock
        self._connection_numbers = random.Random(stable_seed("kraken-v2-connections", seed))

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        peer = request.remote or ""
        if self._attempts.add(peer, 1, time.time()) > self._limits.connection_attempts:
            log.info("refusing a connection attempt over the limit", extra={"peer": peer})
            return web.Response(status=429, text="Too Many Requests")
        ws = web.WebSocketResponse(autoping=True, compress=False, max_msg_size=1 << 20)
        await ws.prepare(request)
        connection = KrakenV2Connection(ws, request, self._limits.max_buffer_bytes, self._connection_numbers.getrandbits(64))
        self._hub.attach(connection)
        self._faults.attach(connection)
        try:
            connection.send_now(frames.status(connection.connection_number))
            while not connection.closed:
                message = await ws.receive()
                if message.type in _FINISHED:
                    break
                if message.type is WSMsgType.TEXT:
                    connection.pending.extend(self._requests.handle(connection, message.data, self._clock.now_ns))
                    connection.flush()
        finally:
            self._hub.detach(connection)
            self._faults.detach(connection)
        return ws
