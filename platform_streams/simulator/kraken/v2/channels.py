"""Kraken v2 subscriptions (``book`` at a depth, ``trade``, ``ticker`` on trades or on best bid/offer
changes) and client connections.

Each kind of subscription has a slot, which is its channel's code in the ground truth
(registered as the exchange ``<venue>v2``, e.g. ``krakenv2``): ``book-<depth>``,
``trade``, ``ticker`` and ``ticker-bbo``.
"""

from __future__ import annotations

from aiohttp import web

from platform_streams.simulator.websocket_connection import ClientConnection

BOOK_DEPTHS = (10, 25, 100, 500, 1000)
TICKER_TRIGGERS = ("trades", "bbo")
CHANNEL_NAMES = [*(f"book-{depth}" for depth in BOOK_DEPTHS), "trade", "ticker", "ticker-bbo"]
SLOT = {name: slot for slot, name in enumerate(CHANNEL_NAMES)}
BOOK_SLOTS = {depth: SLOT[f"book-{depth}"] for depth in BOOK_DEPTHS}
TRADE_SLOT, TICKER_SLOT, TICKER_BBO_SLOT = SLOT["trade"], SLOT["ticker"], SLOT["ticker-bbo"]


class KrakenV2Connection(ClientConnection):
    """A Kraken v2 connection: its ``connection_id``, subscriptions (slot, instrument), and the heartbeat count."""

    __slots__ = ("connection_number", "subscriptions", "written_at_heartbeat")

    def __init__(self, ws: web.WebSocketResponse, request: web.Request, max_buffer_bytes: int, connection_number: int) -> None:
        super().__init__(ws, request, max_buffer_bytes)
        self.connection_number = connection_number
        self.subscriptions: dict[tuple[int, int], None] = {}
        self.written_at_heartbeat = -1
