"""Kraken client connections and who subscribed to what on one WebSocket version (v1 or v2), with heartbeats.

Both versions keep a connection's subscriptions as ``(slot, instrument)``; a book slot's
listeners are held by the version's :class:`KrakenBookFeed` at that slot's depth, any
other slot's by a :class:`SubscriptionTable`. A subscribed connection that got no traffic
for the heartbeat interval (simulated time) gets the version's heartbeat frame. Each
version's hub owns one :class:`KrakenSubscriptions` and adds what the version sends.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from platform_streams.simulator.kraken.book_feed import BookFrames, KrakenBookFeed
from platform_streams.simulator.kraken.pairs import KrakenPairs
from platform_streams.simulator.market.market_batch import TradePrint
from platform_streams.simulator.market.venue_market import VenueMarket
from platform_streams.simulator.publication import FramePublisher, SubscriptionTable
from platform_streams.simulator.websocket_connection import ClientConnection


class KrakenConnection(ClientConnection):
    """A Kraken v1 or v2 connection: its connection id, subscriptions, and the count that decides heartbeats."""

    __slots__ = ("connection_number", "subscriptions", "written_at_heartbeat")

    def __init__(self, ws: web.WebSocketResponse, request: web.Request, max_buffer_bytes: int, connection_number: int) -> None:
        super().__init__(ws, request, max_buffer_bytes)
        self.connection_number = connection_number
        self.subscriptions: dict[tuple[int, int], None] = {}  # (slot, instrument)
        self.written_at_heartbeat = -1


class KrakenSubscriptions:
    """The connections of one Kraken WebSocket version, their subscriptions, and their heartbeats."""

    def __init__(
        self,
        market: VenueMarket,
        pairs: KrakenPairs,
        publisher: FramePublisher,
        book_frames: BookFrames,
        book_slots: Mapping[int, int],
        slots: int,
        heartbeat: bytes,
        heartbeat_ms: int,
    ) -> None:
        """``book_slots`` maps each book depth to its slot; ``slots`` counts them all (the ground truth's channels)."""
        self.books = KrakenBookFeed(market, pairs, publisher, book_frames, book_slots)
        self.table: SubscriptionTable[KrakenConnection] = SubscriptionTable(slots, len(market.instruments))
        self.connections: set[KrakenConnection] = set()
        self._publisher = publisher
        self._book_depths = {slot: depth for depth, slot in book_slots.items()}
        self._heartbeat = heartbeat
        self._heartbeat_ms = heartbeat_ms
        self._last_heartbeat_period = -1

    def subscribe(self, connection: KrakenConnection, slot: int, instrument: int, now_ns: int) -> bytes | None:
        """Subscribe; returns the book's snapshot (to send after the reply) for a book slot, else None."""
        connection.subscriptions[(slot, instrument)] = None
        depth = self._book_depths.get(slot)
        if depth is not None:
            return self.books.subscribe(connection, instrument, depth, now_ns)
        self.table.add(slot, instrument, connection)
        return None

    def unsubscribe(self, connection: KrakenConnection, slot: int, instrument: int) -> None:
        if (slot, instrument) not in connection.subscriptions:
            return
        del connection.subscriptions[(slot, instrument)]
        depth = self._book_depths.get(slot)
        if depth is not None:
            self.books.unsubscribe(connection, instrument, depth)
        else:
            self.table.remove(slot, instrument, connection)

    def attach(self, connection: KrakenConnection) -> None:
        self.connections.add(connection)

    def detach(self, connection: KrakenConnection) -> None:
        for slot, instrument in list(connection.subscriptions):
            self.unsubscribe(connection, slot, instrument)
        self.connections.discard(connection)
        connection.closed = True

    def trades_by_pair(self, trades: list[TradePrint], slot: int) -> dict[int, list[TradePrint]]:
        """The trades of each pair someone listens to on ``slot``, in order (Kraken sends them in one message)."""
        grouped: dict[int, list[TradePrint]] = {}
        if not self.table.active[slot]:
            return grouped  # nobody listens: skip the batch's trades
        rows = self.table.rows[slot]
        for trade in trades:
            instrument = trade[0]
            if rows[instrument]:
                pair_trades = grouped.get(instrument)
                if pair_trades is None:
                    grouped[instrument] = [trade]
                else:
                    pair_trades.append(trade)
        return grouped

    def queue_heartbeats(self, now_ns: int) -> None:
        """Once per heartbeat interval: a heartbeat to every subscribed connection sent nothing since the last one."""
        period = now_ns // 1_000_000 // self._heartbeat_ms
        if period == self._last_heartbeat_period:
            return
        self._last_heartbeat_period = period
        for connection in self.connections:
            if (
                connection.subscriptions
                and connection.frames_written == connection.written_at_heartbeat
                and not connection.pending
            ):
                self._publisher.queue_control(connection, self._heartbeat)
                connection.written_at_heartbeat = connection.frames_written + 1
            else:
                connection.written_at_heartbeat = connection.frames_written + len(connection.pending)
