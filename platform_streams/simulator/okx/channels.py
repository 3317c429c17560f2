"""The OKX public channels the simulator serves, and one client connection's subscriptions to them."""

from __future__ import annotations

import enum

from aiohttp import web

from platform_streams.simulator.websocket_connection import ClientConnection


class OkxChannel(enum.IntEnum):
    TRADES = 0
    BOOKS = 1
    BBO_TBT = 2
    TICKERS = 3
    CANDLE_1M = 4

    @property
    def wire_name(self) -> str:
        return _NAMES[self]


_NAMES = {
    OkxChannel.TRADES: "trades",
    OkxChannel.BOOKS: "books",
    OkxChannel.BBO_TBT: "bbo-tbt",
    OkxChannel.TICKERS: "tickers",
    OkxChannel.CANDLE_1M: "candle1m",
}
CHANNEL_BY_NAME = {name: channel for channel, name in _NAMES.items()}


class OkxConnection(ClientConnection):
    """A ``/ws/v5/public`` connection: its OKX ``connId``, subscriptions and subscribe-request budget."""

    __slots__ = ("conn_id", "subscriptions", "requests_window_start", "requests_in_window")

    def __init__(self, ws: web.WebSocketResponse, request: web.Request, max_buffer_bytes: int, conn_id: str) -> None:
        super().__init__(ws, request, max_buffer_bytes)
        self.conn_id = conn_id
        self.subscriptions: dict[tuple[OkxChannel, int], None] = {}
        self.requests_window_start = 0.0
        self.requests_in_window = 0

    def count_request(self, now: float, interval_s: float) -> int:
        """Count one subscribe/unsubscribe request in the current window; returns the count so far."""
        if now - self.requests_window_start >= interval_s:
            self.requests_window_start = now
            self.requests_in_window = 0
        self.requests_in_window += 1
        return self.requests_in_window
