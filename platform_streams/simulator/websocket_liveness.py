"""Server-side liveness of WebSocket connections: pings that must be answered, and a maximum connection age.

Every ``ping_interval_s`` each connection gets a ping; one left unanswered for
``pong_timeout_s`` gets the connection closed, and every connection is closed
once it is ``max_connection_age_s`` old (Binance drops them at 24 hours), so
clients must handle both. The check runs often enough for small test values.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable

from platform_streams.simulator.config import WebSocketLimits
from platform_streams.simulator.websocket_connection import ClientConnection

log = logging.getLogger(__name__)

CLOSE_GOING_AWAY = 1001
CLOSE_POLICY_VIOLATION = 1008


class WebSocketLiveness:
    """Pings, pong timeouts and age limits for the connections ``connections()`` returns."""

    def __init__(self, limits: WebSocketLimits, connections: Callable[[], Iterable[ClientConnection]]) -> None:
        self._limits = limits
        self._connections = connections
        self.tick_s = min(1.0, limits.ping_interval_s / 2, limits.pong_timeout_s / 4, limits.max_connection_age_s / 4)
        self._closing: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        """Check every connection each tick, until cancelled."""
        while True:
            await asyncio.sleep(self.tick_s)
            self.check(time.monotonic())

    def _close(self, connection: ClientConnection, code: int, reason: str) -> None:
        # closing waits for the client's close frame: never hold up the other connections for it
        task = asyncio.get_running_loop().create_task(connection.close(code, reason))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def check(self, now: float) -> None:
        limits = self._limits
        for connection in list(self._connections()):
            if connection.closed:
                continue
            if now - connection.opened_monotonic >= limits.max_connection_age_s:
                log.info("closing a connection at its maximum age", extra={"peer": connection.peer})
                self._close(connection, CLOSE_GOING_AWAY, "Connection age limit reached")
            elif connection.unanswered_ping_since is not None and now - connection.unanswered_ping_since >= limits.pong_timeout_s:
                log.info("closing a connection that did not answer a ping", extra={"peer": connection.peer})
                self._close(connection, CLOSE_POLICY_VIOLATION, "Pong timeout")
            elif now - connection.last_ping_at >= limits.ping_interval_s:
                connection.send_ping(str(int(now * 1000)).encode(), now)
