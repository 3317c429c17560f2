"""One account's private stream at one venue, kept connected: the connection loop written once for
every venue (the venue specifics are its :class:`~platform_streams.exchanges.user_stream.UserStreamVenue`).

It connects (after the venue's REST preparation: a listenKey, a token), sends the venue's opening
frames, answers what the venue asks (a login's next step), keeps the connection alive, and hands
every report to ``on_reports`` as it comes. ``on_state(True)`` once the venue confirms the
subscription (or on connecting, where the URL itself names the stream), ``on_state(False)`` when the connection is lost; then it reconnects after a backoff
(``reconnect_s``, doubling to 30 s, reset once subscribed again). A venue refusal is logged and
retried the same way: the REST road covers the orders meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

import aiohttp
import orjson
import websockets

from platform_streams.exchanges.user_stream import StreamReport, UserStreamError, UserStreamVenue

log = logging.getLogger(__name__)

_MAX_BACKOFF_S = 30.0


class PrivateStream:
    """Keeps one venue user stream connected and hands its reports on."""

    def __init__(
        self,
        venue: UserStreamVenue,
        on_reports: Callable[[Sequence[StreamReport], int], Awaitable[None]],
        on_state: Callable[[bool], None],
        reconnect_s: float = 1.0,
    ) -> None:
        self.venue = venue
        self._on_reports = on_reports
        self._on_state = on_state
        self._reconnect_s = reconnect_s
        self.connected = False

    async def run(self) -> None:
        """Until cancelled: connect, listen, and reconnect whenever the connection is lost."""
        backoff = self._reconnect_s
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            while True:
                try:
                    await self._listen(session)
                except (TimeoutError, OSError, aiohttp.ClientError, websockets.WebSocketException) as error:
                    log.warning("private stream lost", extra={"exchange": self.venue.exchange, "error": str(error)[:200]})
                except (UserStreamError, orjson.JSONDecodeError, KeyError, ValueError) as error:
                    log.error("private stream refused", extra={"exchange": self.venue.exchange, "error": str(error)[:300]})
                except Exception:  # noqa: BLE001 - the stream is the fast road: whatever broke it, REST covers and it comes back
                    log.exception("private stream failed", extra={"exchange": self.venue.exchange})
                was_connected = self.connected
                self._set(False)
                backoff = self._reconnect_s if was_connected else min(backoff * 2, _MAX_BACKOFF_S)
                await asyncio.sleep(backoff)

    async def _listen(self, session: aiohttp.ClientSession) -> None:
        url = await self.venue.prepare(session)
        async with websockets.connect(url, open_timeout=10, ping_interval=20, max_size=1 << 22) as connection:
            for frame in self.venue.opening_messages():
                await connection.send(frame)
            if not self.venue.acknowledges_subscription:
                self._set(True)
            keepalive = asyncio.ensure_future(self._keepalive(session, connection))
            try:
                async for text in connection:
                    if isinstance(text, bytes):
                        text = text.decode()
                    parsed = self.venue.parse(text)
                    for reply in parsed.replies:
                        await connection.send(reply)
                    if parsed.subscribed:
                        self._set(True)
                    if parsed.reports:
                        await self._on_reports(parsed.reports, time.time_ns())
            finally:
                keepalive.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await keepalive

    async def _keepalive(self, session: aiohttp.ClientSession, connection: websockets.ClientConnection) -> None:
        """The venue's upkeep; if it fails the connection is closed, and the loop reconnects afresh."""
        try:
            while True:
                await asyncio.sleep(self.venue.keepalive_interval_s)
                frame = await self.venue.keepalive(session)
                if frame is not None:
                    await connection.send(frame)
        except (TimeoutError, OSError, aiohttp.ClientError, websockets.WebSocketException, UserStreamError) as error:
            log.warning("private stream keep-alive failed", extra={"exchange": self.venue.exchange, "error": str(error)[:200]})
            await connection.close()

    def _set(self, connected: bool) -> None:
        if connected != self.connected:
            self.connected = connected
            self._on_state(connected)
