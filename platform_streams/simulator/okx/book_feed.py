"""The OKX ``books`` channel: a 400-level snapshot, then incremental updates every 100 ms with seqId and checksum.

Changes of subscribed instruments accumulate in a window (each level's final size;
size ``"0"`` removes a level). At every 100 ms boundary the window goes out as one
update whose ``prevSeqId`` is the previous message's ``seqId`` and whose ``seqId``
is the book's update id now, with the checksum of the book after it. A new
subscriber gets its snapshot at that same boundary, right after the update it
does not need, so the snapshot's ``seqId`` is exactly the next update's
``prevSeqId`` — the chain a client checks is never broken by a subscription.
"""

from __future__ import annotations

from platform_streams.simulator.market.order_book import LevelChange
from platform_streams.simulator.market.venue_market import VenueMarket
from platform_streams.simulator.okx import frames
from platform_streams.simulator.okx.channels import OkxChannel, OkxConnection
from platform_streams.simulator.okx.checksum import CHECKSUM_LEVELS, book_checksum
from platform_streams.simulator.okx.instruments import OkxInstruments
from platform_streams.simulator.publication import FramePublisher

SNAPSHOT_LEVELS = 400


class _BookState:
    __slots__ = ("listeners", "pending", "bids", "asks", "seq_id", "top", "checksum")

    def __init__(self) -> None:
        self.listeners: list[OkxConnection] = []  # get updates
        self.pending: list[OkxConnection] = []  # get a snapshot at the next boundary
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        self.seq_id = -1
        self.top: tuple[list[int], ...] | None = None  # keys and lots of the top 25 the checksum was computed on
        self.checksum = 0


class OkxBookFeed:
    """Snapshots and updates of the instruments someone subscribed to."""

    def __init__(self, market: VenueMarket, instruments: OkxInstruments, publisher: FramePublisher) -> None:
        self._market = market
        self._instruments = instruments
        self._publisher = publisher
        self._states: dict[int, _BookState] = {}

    def subscribe(self, connection: OkxConnection, instrument: int) -> None:
        """(Re)subscribe: a snapshot follows at the next boundary, as OKX sends one for every subscribe."""
        state = self._states.get(instrument)
        if state is None:
            state = self._states[instrument] = _BookState()
        if connection in state.listeners:
            state.listeners.remove(connection)
        if connection not in state.pending:
            state.pending.append(connection)

    def unsubscribe(self, connection: OkxConnection, instrument: int) -> None:
        state = self._states.get(instrument)
        if state is None:
            return
        for group in (state.listeners, state.pending):
            if connection in group:
                group.remove(connection)
        if not state.listeners and not state.pending:
            del self._states[instrument]

    def accumulate(self, changes: list[LevelChange]) -> None:
        states = self._states
        if not states:
            return
        for instrument, is_bid, price, lots, _update_id in changes:
            state = states.get(instrument)
            if state is not None:
                (state.bids if is_bid else state.asks)[price] = lots

    def publish(self, event_ms: int) -> None:
        """The 100 ms boundary: one update per changed book, then the snapshots owed."""
        send, channel = self._publisher.send, OkxChannel.BOOKS
        for instrument, state in self._states.items():
            seq_id = self._market.books[instrument].update_id
            if state.listeners and (state.bids or state.asks):
                data = self._update(instrument, state, event_ms, seq_id, self._checksum(instrument, state))
                send(state.listeners, channel, instrument, seq_id, state.seq_id, data)
                state.seq_id = seq_id
            state.bids.clear()
            state.asks.clear()
            if state.pending:
                send(state.pending, channel, instrument, seq_id, -1, self._snapshot(instrument, event_ms, state))
                state.listeners += state.pending
                state.pending = []
                state.seq_id = seq_id

    def _checksum(self, instrument: int, state: _BookState) -> int:
        """The checksum of the book now, recomputed only when its top 25 levels changed."""
        book, n, names = self._market.books[instrument], CHECKSUM_LEVELS, self._instruments
        bids, asks = book.bids, book.asks
        top = (bids.keys[:n], bids.lots[:n], asks.keys[:n], asks.lots[:n])
        if top != state.top:
            state.top = top
            state.checksum = book_checksum(
                names.prices(instrument, [-key for key in top[0]]),
                names.sizes(instrument, top[1]),
                names.prices(instrument, top[2]),
                names.sizes(instrument, top[3]),
            )
        return state.checksum

    def _update(self, instrument: int, state: _BookState, event_ms: int, seq_id: int, checksum: int) -> bytes:
        rows = self._instruments.level_rows
        ask_prices, bid_prices = sorted(state.asks), sorted(state.bids, reverse=True)
        asks = rows(instrument, ask_prices, [state.asks[p] for p in ask_prices])
        bids = rows(instrument, bid_prices, [state.bids[p] for p in bid_prices])
        name = self._instruments.name_bytes[instrument]
        return frames.book(name, b"update", asks, bids, event_ms, checksum, state.seq_id, seq_id)

    def _snapshot(self, instrument: int, event_ms: int, state: _BookState) -> bytes:
        book, rows, n = self._market.books[instrument], self._instruments.level_rows, SNAPSHOT_LEVELS
        asks = rows(instrument, book.asks.keys[:n], book.asks.lots[:n])
        bids = rows(instrument, [-key for key in book.bids.keys[:n]], book.bids.lots[:n])
        name = self._instruments.name_bytes[instrument]
        checksum = self._checksum(instrument, state)
        return frames.book(name, b"snapshot", asks, bids, event_ms, checksum, -1, book.update_id)
