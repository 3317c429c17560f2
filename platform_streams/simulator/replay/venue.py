"""One exchange of a replay on its own port: recorded WebSocket connections on any path, and recorded REST bodies.

A WebSocket upgrade gets the recorded connection that best fits it: same path and
query, else same path, else one recorded without a URL; among equals the one used
least, in recording order. Its first message may still switch it to a recording
whose first request is the same message. Any other request is answered with the
REST body recorded for that path and parameters that is current at the replay's
position (the latest open session's): the latest recorded up to now, else the next
one once the replay reaches it (at once if it was recorded after that session's
connection ended, e.g. in another file; the latest one when no session is open).
"""

from __future__ import annotations

import asyncio
import logging

import orjson
from aiohttp import WSMsgType, web

from platform_streams.simulator.faults.injector import ExchangeFaults
from platform_streams.simulator.replay.client_messages import reply_to, starts_feed
from platform_streams.simulator.replay.recording import RecordedConnection, RecordedRest
from platform_streams.simulator.replay.session import ReplaySession
from platform_streams.simulator.websocket_connection import ClientConnection

log = logging.getLogger(__name__)

_FINISHED = (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR)
_MAX_BUFFER_BYTES = 256 * 1024 * 1024
_MAX_REST_WAIT_S = 3600.0


class ReplayVenue:
    """The recorded traffic of one exchange, served to any number of clients."""

    def __init__(
        self,
        exchange: str,
        connections: list[RecordedConnection],
        rest: list[RecordedRest],
        speed: float,
        faults: ExchangeFaults,
        first_message_wait_s: float,
    ) -> None:
        self.exchange = exchange
        self.connections = connections
        self.rest = rest
        self.speed = speed
        self.sessions: list[ReplaySession] = []
        self._faults = faults
        self._first_message_wait_s = first_message_wait_s
        self._uses = [0] * len(connections)

    def application(self) -> web.Application:
        app = web.Application()
        app.add_routes([web.route("*", "/{tail:.*}", self.handle)])
        return app

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await self._websocket(request)
        return await self._rest(request)

    # WebSocket ---------------------------------------------------------------------

    def _rank(self, index: int, path: str, query: str) -> tuple[int, int, int]:
        recorded = self.connections[index]
        if recorded.path is None:
            fit = 2
        elif recorded.path == path:
            fit = 0 if recorded.query == query else 1
        else:
            fit = 3
        return fit, self._uses[index], index

    def _choose(self, path: str, query: str) -> int | None:
        if not self.connections:
            return None
        return min(range(len(self.connections)), key=lambda i: self._rank(i, path, query))

    def _rematch(self, session: ReplaySession, text: str, path: str, query: str) -> None:
        """Switch to an equally fitting recording whose first request is exactly ``text``, if the current one's is not."""
        current = self.connections.index(session.recorded)
        if _same_json(session.recorded.first_sent, text):
            return
        fit = self._rank(current, path, query)[0]
        for index, recorded in enumerate(self.connections):
            if self._rank(index, path, query)[0] == fit and _same_json(recorded.first_sent, text) and session.swap(recorded):
                self._uses[current] -= 1
                self._uses[index] += 1
                return

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        chosen = self._choose(request.path, request.query_string)
        if chosen is None:
            return web.Response(status=404, text=f"no recorded {self.exchange} WebSocket connection to replay")
        ws = web.WebSocketResponse(autoping=True, compress=False, max_msg_size=1 << 22)
        await ws.prepare(request)
        self._uses[chosen] += 1
        connection = ClientConnection(ws, request, _MAX_BUFFER_BYTES)
        self._faults.attach(connection)
        session = ReplaySession(connection, self.connections[chosen], self.speed, self._first_message_wait_s)
        self.sessions.append(session)
        log.info("replaying a recorded connection", extra={"exchange": self.exchange, "source": session.recorded.source})
        player = asyncio.get_running_loop().create_task(session.play())
        try:
            while not connection.closed:
                message = await ws.receive()
                if message.type in _FINISHED:
                    break
                if message.type is WSMsgType.TEXT:
                    self._on_client_text(session, message.data, request)
        finally:
            player.cancel()
            connection.closed = True
            self._faults.detach(connection)
        return ws

    def _on_client_text(self, session: ReplaySession, text: str, request: web.Request) -> None:
        connection = session.connection
        if not session.feed_started.is_set():
            starts, error = starts_feed(self.exchange, text)
            if error is not None:
                connection.send_now(error)
            if starts:
                self._rematch(session, text, request.path, request.query_string)
                session.feed_started.set()
            return
        reply = reply_to(self.exchange, text)
        if reply is not None:
            connection.send_now(reply)

    # REST -----------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        query = dict(request.query)
        bodies = [body for body in self.rest if body.answers(request.path, query)]
        if not bodies:
            return web.Response(
                status=404,
                body=orjson.dumps({"error": "not in the recording", "path": request.path_qs}),
                content_type="application/json",
            )
        session = self._latest_session()
        if session is None:
            return self._body(bodies[-1])
        position = session.position_ns()
        current = [body for body in bodies if body.time_ns <= position]
        if current:
            return self._body(current[-1])
        upcoming = bodies[0]
        if upcoming.time_ns > session.recorded.end_ns:  # recorded apart from this connection: nothing to wait for
            return self._body(upcoming)
        await asyncio.sleep(min(_MAX_REST_WAIT_S, (upcoming.time_ns - position) / 1e9 / self.speed))
        return self._body(upcoming)

    def _latest_session(self) -> ReplaySession | None:
        """The session whose position decides which REST bodies are current: the latest one still open."""
        live = [session for session in self.sessions if not session.connection.closed]
        return live[-1] if live else None

    @staticmethod
    def _body(recorded: RecordedRest) -> web.Response:
        return web.Response(body=recorded.body, content_type="application/json")

    def summary(self) -> dict[str, object]:
        return {
            "recorded_connections": len(self.connections),
            "recorded_frames": sum(len(c.received) for c in self.connections),
            "rest_bodies": len(self.rest),
            "sessions": len(self.sessions),
            "frames_sent": sum(s.frames_sent for s in self.sessions),
        }

    def close_connections(self) -> None:
        for session in self.sessions:
            session.connection.abort()


def _same_json(frame: object, text: str) -> bool:
    payload = getattr(frame, "payload", None)
    if payload is None:
        return False
    try:
        return bool(orjson.loads(payload) == orjson.loads(text))
    except orjson.JSONDecodeError:
        return False
