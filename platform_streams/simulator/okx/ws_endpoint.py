"""The OKX public WebSocket endpoint ``/ws/v5/public`` and the liveness rules of its connections.

Connection attempts are metered per IP (HTTP 429 on the upgrade past OKX's 3 per
second); text ``ping`` gets text ``pong``; a connection to which nothing was pushed
(data, pong or event) for ``idle_timeout_s`` (30 s) is dropped, as OKX drops it, so
clients must ping when their subscriptions are quiet.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time

from aiohttp import web

from platform_streams.simulator.config import OkxWebSocketLimits
from platform_streams.simulator.faults.injector import ExchangeFaults
from platform_streams.simulator.market.universe import stable_seed
from platform_streams.simulator.okx.channels import OkxConnection
from platform_streams.simulator.okx.hub import OkxHub
from platform_streams.simulator.okx.ws_requests import OkxRequests
from platform_streams.simulator.rate_windows import FixedWindowCounter
from platform_streams.simulator.websocket_connection import answer_text_frames
from platform_streams.simulator.websocket_liveness import CLOSE_GOING_AWAY

log = logging.getLogger(__name__)


class OkxPublicEndpoint:
    """aiohttp handler of ``/ws/v5/public`` and the idle/age checks of its connections."""

    def __init__(self, hub: OkxHub, requests: OkxRequests, limits: OkxWebSocketLimits, faults: ExchangeFaults, seed: int) -> None:
        self._hub = hub
        self._requests = requests
        self._limits = limits
        self._faults = faults
        self._attempts = FixedWindowCounter(limits.connection_attempts, limits.connection_interval_s)
        self._conn_ids = random.Random(stable_seed("okx-connections", seed))
        self._activity: dict[OkxConnection, tuple[int, float]] = {}
        self._closing: set[asyncio.Task[None]] = set()

    async def public(self, request: web.Request) -> web.StreamResponse:
        peer = request.remote or ""
        if self._attempts.add(peer, 1, time.time()) > self._limits.connection_attempts:
            log.info("refusing a connection attempt over the limit", extra={"peer": peer})
            return web.Response(status=429, text="Too Many Requests")
        ws = web.WebSocketResponse(autoping=True, compress=False, max_msg_size=1 << 20)
        await ws.prepare(request)
        connection = OkxConnection(ws, request, self._limits.max_buffer_bytes, f"{self._conn_ids.getrandbits(32):08x}")
        self._hub.attach(connection)
        self._faults.attach(connection)
        self._activity[connection] = (0, time.monotonic())
        try:
            await answer_text_frames(ws, connection, lambda text: self._requests.handle(connection, text))
        finally:
            self._hub.detach(connection)
            self._faults.detach(connection)
            self._activity.pop(connection, None)
        return ws

    async def run_liveness(self) -> None:
        """Drop idle connections and connections past their maximum age, until cancelled."""
        tick = min(1.0, self._limits.idle_timeout_s / 4)
        while True:
            await asyncio.sleep(tick)
            self.check(time.monotonic())

    def check(self, now: float) -> None:
        limits = self._limits
        for connection, (written, since) in list(self._activity.items()):
            if connection.closed:
                continue
            if connection.frames_written != written:
                self._activity[connection] = (connection.frames_written, now)
            elif now - since >= limits.idle_timeout_s:
                log.info("dropping an idle connection", extra={"peer": connection.peer})
                self._close(connection, "No data pushed for 30 seconds")
                continue
            if now - connection.opened_monotonic >= limits.max_connection_age_s:
                self._close(connection, "Connection age limit reached")

    def _close(self, connection: OkxConnection, reason: str) -> None:
        self._activity.pop(connection, None)
        task = asyncio.get_running_loop().create_task(connection.close(CLOSE_GOING_AWAY, reason))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)
