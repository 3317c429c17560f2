"""A server-side WebSocket client connection whose text frames are coalesced into one socket write per flush.

aiohttp does the handshake, the reading and the control frames; market data is
written here straight to the transport. Server frames are unmasked and carry no
extension bits (connections are opened without permessage-deflate), so a frame is
a 2-10 byte header and the payload: queuing costs an append, and a flush joins
all queued frames into one ``transport.write``. A client that lets more than
``max_buffer_bytes`` pile up unread is dropped, as a real exchange drops slow
consumers. While a fault is armed on the connection's exchange (``faults/``), the
frames of a flush pass through it first: it may drop, duplicate, reorder, corrupt,
delay or hold them.
"""

from __future__ import annotations

import logging
import struct
import time
from collections.abc import Callable
from typing import Protocol

from aiohttp import WSMsgType, web

log = logging.getLogger(__name__)

_TEXT = 0x81
_PING = 0x89
_MEDIUM = struct.Struct("!BBH").pack
_LARGE = struct.Struct("!BBQ").pack
#: Headers of frames shorter than this many bytes (almost every market data frame), looked up instead of built.
_TABLED = 4096
_HEADERS = [bytes((_TEXT, n)) if n < 126 else _MEDIUM(_TEXT, 126, n) for n in range(_TABLED)]


def text_frame_header(length: int) -> bytes:
    """Header of an unmasked, final text frame carrying ``length`` bytes."""
    if length < _TABLED:
        return _HEADERS[length]
    if length < 65536:
        return _MEDIUM(_TEXT, 126, length)
    return _LARGE(_TEXT, 127, length)


def text_frames(payloads: list[bytes]) -> bytes:
    """The payloads as consecutive text frames, ready to write."""
    lengths = list(map(len, payloads))
    parts: list[bytes] = [b""] * (2 * len(payloads))
    parts[0::2] = map(_HEADERS.__getitem__ if max(lengths, default=0) < _TABLED else text_frame_header, lengths)
    parts[1::2] = payloads
    return b"".join(parts)


class OutgoingFaults(Protocol):
    """What a connection asks of its exchange's fault injector (``faults.injector.ExchangeFaults``)."""

    engaged: bool

    def outgoing(self, connection: ClientConnection, frames: list[bytes]) -> list[bytes]: ...

    def is_stalled(self, connection: ClientConnection) -> bool: ...


class ClientConnection:
    """One connected client: its socket, queued frames, and liveness bookkeeping (pings, incoming rate)."""

    __slots__ = (
        "ws",
        "transport",
        "peer",
        "pending",
        "closed",
        "opened_monotonic",
        "unanswered_ping_since",
        "last_ping_at",
        "ping_payloads",
        "incoming_window_start",
        "incoming_in_window",
        "max_buffer_bytes",
        "connection_id",
        "faults",
        "frames_written",
    )

    def __init__(self, ws: web.WebSocketResponse, request: web.Request, max_buffer_bytes: int) -> None:
        self.ws = ws
        self.transport = request.transport
        self.peer = request.remote or ""
        self.pending: list[bytes] = []
        self.closed = False
        self.opened_monotonic = time.monotonic()
        self.unanswered_ping_since: float | None = None
        self.last_ping_at = self.opened_monotonic
        self.ping_payloads: list[bytes] = []
        self.incoming_window_start = 0.0
        self.incoming_in_window = 0
        self.max_buffer_bytes = max_buffer_bytes
        self.connection_id = ""  # given by the exchange's fault injector when the connection is attached
        self.faults: OutgoingFaults | None = None
        self.frames_written = 0

    def queue(self, payload: bytes) -> None:
        self.pending.append(payload)

    def flush(self) -> int:
        """Write every queued frame in one call; returns how many frames went out."""
        pending = self.pending
        if not pending:
            return 0
        self.pending = []
        transport = self.transport
        if self.closed or transport is None or transport.is_closing():
            self.closed = True
            return 0
        faults = self.faults
        if faults is not None and faults.engaged:
            pending = faults.outgoing(self, pending)
            if not pending:
                return 0
        return self.write_frames(pending)

    def write_frames(self, payloads: list[bytes]) -> int:
        """Write text frames to the socket now, in one call; returns how many went out."""
        transport = self.transport
        if self.closed or transport is None or transport.is_closing():
            self.closed = True
            return 0
        transport.write(text_frames(payloads))
        self.frames_written += len(payloads)
        if transport.get_write_buffer_size() > self.max_buffer_bytes:
            log.warning(
                "dropping a client that does not read",
                extra={"peer": self.peer, "buffered_bytes": transport.get_write_buffer_size()},
            )
            self.closed = True
            transport.abort()
        return len(payloads)

    def send_now(self, payload: bytes) -> None:
        """Queue one frame and flush at once (replies to requests, user data events)."""
        self.pending.append(payload)
        self.flush()

    def send_ping(self, payload: bytes, now: float) -> None:
        transport = self.transport
        if self.closed or transport is None or transport.is_closing():
            return
        if self.faults is not None and self.faults.engaged and self.faults.is_stalled(self):
            return
        transport.write(bytes((_PING, len(payload))) + payload)
        self.last_ping_at = now
        self.ping_payloads = [*self.ping_payloads[-3:], payload]
        if self.unanswered_ping_since is None:
            self.unanswered_ping_since = now

    def on_pong(self, payload: bytes) -> None:
        """A pong counts only if it echoes one of our pings (unsolicited pongs do not keep a connection alive)."""
        if payload in self.ping_payloads:
            self.unanswered_ping_since = None
            self.ping_payloads = []

    def count_incoming(self, now: float) -> int:
        """Count one incoming frame in the current one-second window; returns the count so far."""
        if now - self.incoming_window_start >= 1.0:
            self.incoming_window_start = now
            self.incoming_in_window = 0
        self.incoming_in_window += 1
        return self.incoming_in_window

    async def close(self, code: int, message: str) -> None:
        self.pending = []
        if not self.closed:
            self.closed = True
            await self.ws.close(code=code, message=message.encode())

    def abort(self) -> None:
        """Drop the TCP connection without a close handshake (server shutdown)."""
        self.closed = True
        if self.transport is not None:
            self.transport.abort()


_FINISHED = (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR)


async def answer_text_frames(
    ws: web.WebSocketResponse, connection: ClientConnection, replies: Callable[[str], list[bytes]]
) -> None:
    """Until the client leaves or the connection is closed: each text frame's replies queued and sent, in order."""
    while not connection.closed:
        message = await ws.receive()
        if message.type in _FINISHED:
            return
        if message.type is WSMsgType.TEXT:
            connection.pending.extend(replies(message.data))
            connection.flush()
