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

from platform_streams.simulator.market.order_book import BookSide, LevelChange
from platform_streams.simulator.market.venue_market import VenueMarket
from platform_streams.simulator.okx import frames
from platform_streams.simulator.okx.channels import OkxChannel, OkxConnection
from platform_streams.simulator.okx.checksum import CHECKSUM_LEVELS, book_checksum
from platform_streams.simulator.okx.instruments import OkxInstruments
from platform_streams.simulator.publication import FramePublisher

SNAPSHOT_LEVELS = 400


class _TopTexts:
    """One side's top 25 keys and lots the checksum was last computed on, and their price and size texts."""

    __slots__ = ("keys", "lots", "prices", "sizes")

    def __init__(self) -> None:
        self.keys: list[int] | None = None
        self.lots: list[int] | None = None
        self.prices: list[bytes] = []
        self.sizes: list[bytes] = []

    def refresh(self, side: BookSide, instrument: int, names: OkxInstruments) -> bool:
        """Take the side's top levels; True when they changed (their texts are then spelled again)."""
        keys, lots = side.keys[:CHECKSUM_LEVELS], side.lots[:CHECKSUM_LEVELS]
        if keys == self.keys and lots == self.lots:
            return False
        self.keys, self.lots = keys, lots
        self.prices, self.sizes = names.prices(instrument, keys), names.sizes(instrument, lots)
        return True


class _BookState:
    __slots__ = ("listeners", "pending", "bids", "asks", "seq_id", "checksum", "bid_top", "ask_top")

    def __init__(self) -> None:
        self.listeners: list[OkxConnection] = []  # get updates
        self.pending: list[OkxConnection] = []  # get a snapshot at the next boundary
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        self.seq_id = -1
        self.checksum = 0
        self.bid_top = _TopTexts()
        self.ask_top = _TopTexts()


class OkxBookFeed:
    """Snapshots and updates of the instruments someone subscribed to."""

    def __init__(self, market: VenueMarket, instruments: OkxInstruments, publisher: FramePublisher) -> None:
        self._market = market
        self._instruments = instruments
        self._publisher = publisher
        self._states: dict[int, _BookState] = {}
        self._touched: set[int] = set()  # instruments with changes or snapshots owed at the next boundary

    def subscribe(self, connection: OkxConnection, instrument: int) -> None:
        """(Re)subscribe: a snapshot follows at the next boundary, as OKX sends one for every subscribe."""
        state = self._states.get(instrument)
        if state is None:
            state = self._states[instrument] = _BookState()
        if connection in state.listeners:
            state.listeners.remove(connection)
        if connection not in state.pending:
            state.pending.append(connection)
        self._touched.add(instrument)

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
        states, touched = self._states, self._touched
        if not states:
            return
        for instrument, is_bid, price, lots, _update_id in changes:
            state = states.get(instrument)
            if state is not None:
                (state.bids if is_bid else state.asks)[price] = lots
                touched.add(instrument)

    def publish(self, event_ms: int) -> None:
        """The 100 ms boundary: one update per changed book, then the snapshots owed (in subscription order)."""
        send, channel, states, touched = self._publisher.send, OkxChannel.BOOKS, self._states, self._touched
        if not touched:
            return
        self._touched = set()
        for instrument in list(states) if len(touched) == len(states) else [i for i in states if i in touched]:
            state = states[instrument]
            seq_id = self._market.books[instrument].update_id
            if state.listeners and (state.bids or state.asks):
                # every boundary with changes computes the checksum (update or snapshot): an unchanged side is current
                checksum = self._checksum(instrument, state, bool(state.bids), bool(state.asks))
                data = self._update(instrument, state, event_ms, seq_id, checksum)
                send(state.listeners, channel, instrument, seq_id, state.seq_id, data)
                state.seq_id = seq_id
            state.bids.clear()
            state.asks.clear()
            if state.pending:
                send(state.pending, channel, instrument, seq_id, -1, self._snapshot(instrument, event_ms, state))
                state.listeners += state.pending
                state.pending = []
                state.seq_id = seq_id

    def _checksum(self, instrument: int, state: _BookState, bids_changed: bool = True, asks_changed: bool = True) -> int:
        """The checksum of the book now, recomputed only when its top 25 levels changed.

        Each side's price and size texts are kept until its top 25 levels change; a
        side without a level change since the last boundary (``bids_changed``,
        ``asks_changed``: the caller knows from the window) is not even looked at.
        """
        book, names, bid_top, ask_top = self._market.books[instrument], self._instruments, state.bid_top, state.ask_top
        changed = (bids_changed or bid_top.keys is None) and bid_top.refresh(book.bids, instrument, names)
        if (asks_changed or ask_top.keys is None) and ask_top.refresh(book.asks, instrument, names):
            changed = True
        if changed:
            state.checksum = book_checksum(bid_top.prices, bid_top.sizes, ask_top.prices, ask_top.sizes)
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
        bids = rows(instrument, book.bids.keys[:n], book.bids.lots[:n])  # keys: the prices cache takes them
        name = self._instruments.name_bytes[instrument]
        checksum = self._checksum(instrument, state)
        return frames.book(name, b"snapshot", asks, bids, event_ms, checksum, -1, book.update_id)
