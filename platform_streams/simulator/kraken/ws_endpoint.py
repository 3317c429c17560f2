"""A Kraken WebSocket endpoint, v1 (``/``, as ``wss://ws.kraken.com``) or v2 (``/v2``): a greeting on connect,
then request replies and subscribed data.

Connection attempts are metered per IP, v1 and v2 against one count (Kraken meters the
host; HTTP 429 on the upgrade past the limit). Every connection gets the version's greeting
(v1 ``systemStatus``, v2 ``status``, with a 64-bit connection id, as in the captures) before
anything else; protocol-level pings are answered by aiohttp. Connections are attached to
the venue's fault injector.
"""

from __future__ import annotations

import logging
import random
import time
from typing import Protocol

from aiohttp import web

from platform_streams.simulator.clock import SimClock
from platform_streams.simulator.config import KrakenWebSocketLimits
from platform_streams.simulator.faults.injector import ExchangeFaults
from platform_streams.simulator.kraken.subscriptions import KrakenConnection, KrakenSubscriptions
from platform_streams.simulator.market.universe import stable_seed
from platform_streams.simulator.rate_windows import FixedWindowCounter
from platform_streams.simulator.websocket_connection import answer_text_frames

log = logging.getLogger(__name__)


class KrakenRequests(Protocol):
    """How one WebSocket version talks to a client (:class:`~.ws_events.KrakenEvents`, v1; ``v2.requests``)."""

    def greeting(self, connection: KrakenConnection) -> bytes:
        """The first message of a connection."""
        ...

    def handle(self, connection: KrakenConnection, text: str, now_ns: int) -> list[bytes]:
        """The frames to send in answer to one text frame, in order."""
        ...


class KrakenEndpoint:
    """aiohttp handler of one Kraken WebSocket version's endpoint; ``numbering`` names its connection ids' seeded stream."""

    def __init__(
        self,
        subscriptions: KrakenSubscriptions,
        requests: KrakenRequests,
        limits: KrakenWebSocketLimits,
        attempts: FixedWindowCounter,
        faults: ExchangeFaults,
        clock: SimClock,
        seed: int,
        numbering: str,
    ) -> None:
        self._subscriptions = subscriptions
        self._requests = requests
        self._limits = limits
        self._attempts = attempts  # connection attempts per IP, shared by the v1 and v2 endpoints
        self._faults = faults
        self._clock = clock
        self._connection_numbers = random.Random(stable_seed(numbering, seed))

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        peer = request.remote or ""
        if self._attempts.add(peer, 1, time.time()) > self._limits.connection_attempts:
            log.info("refusing a connection attempt over the limit", extra={"peer": peer})
            return web.Response(status=429, text="Too Many Requests")
        ws = web.WebSocketResponse(autoping=True, compress=False, max_msg_size=1 << 20)
        await ws.prepare(request)
        connection = KrakenConnection(ws, request, self._limits.max_buffer_bytes, self._connection_numbers.getrandbits(64))
        self._subscriptions.attach(connection)
        self._faults.attach(connection)
        try:
            connection.send_now(self._requests.greeting(connection))
            await answer_text_frames(ws, connection, lambda text: self._requests.handle(connection, text, self._clock.now_ns))
        finally:
            self._subscriptions.detach(connection)
            self._faults.detach(connection)
        return ws
