"""Binance spot's book rule: a REST ``/api/v3/depth`` snapshot plus the buffered ``depthUpdate`` diffs.

While no snapshot is loaded, diffs are buffered (the newest ``max_buffered``). On a
snapshot with ``lastUpdateId`` L: diffs with ``u <= L`` are dropped, the first one
applied must bracket it (``U <= L + 1 <= u``), and from then on each diff must start
where the previous ended (``U == previous u + 1``; and ``pu == previous u`` on feeds
that send ``pu``). A snapshot older than every buffered diff, a gap, or a crossed book
answers ``resync``: fetch a new snapshot (diffs keep being buffered meanwhile).
"""

from __future__ import annotations

import collections

from platform_streams.books.sync import BookChecksum, BookEvent, BookSync, SyncResult, SyncStatus, dropped
from platform_streams.exchanges.binance.instruments import EXCHANGE
from platform_streams.schemas.events import BookDelta, BookSnapshot

DEFAULT_MAX_BUFFERED = 10_000

_BUFFERED = SyncResult(SyncStatus.BUFFERED)
_ALREADY_IN_BOOK = dropped("update ids already in the book (u <= last applied id)")


class BinanceBookSync(BookSync):
    """One Binance symbol's book from a REST snapshot and the ``@depth`` diff stream."""

    exchange = EXCHANGE

    def __init__(self, symbol: str, max_buffered: int = DEFAULT_MAX_BUFFERED) -> None:
        super().__init__(symbol)
        self.buffer: collections.deque[BookDelta] = collections.deque(maxlen=max_buffered)
        self.bridged = False  # a diff bracketing the snapshot's lastUpdateId has been applied

    def on_snapshot(self, snapshot: BookSnapshot, checksum: BookChecksum | None = None) -> SyncResult:
        """Load the snapshot, then replay the buffered diffs that continue it."""
        book = self._load_snapshot(snapshot)
        self.bridged = False
        if book.is_crossed():
            return self._resync(snapshot, f"snapshot crossed: bid {book.best_bid()} ask {book.best_ask()}")
        buffered, self.buffer = list(self.buffer), collections.deque(maxlen=self.buffer.maxlen)
        if buffered and buffered[0].first_sequence > snapshot.sequence + 1:
            return self._resync(
                snapshot, "snapshot older than the first buffered diff", snapshot.sequence + 1, buffered[0].first_sequence
            )
        applied: list[BookEvent] = [snapshot]
        for delta in buffered:
            result = self.on_delta(delta)
            if result.status is SyncStatus.RESYNC:
                return result
            applied.extend(result.applied)
        return SyncResult(SyncStatus.APPLIED, tuple(applied))

    def on_delta(self, delta: BookDelta, checksum: BookChecksum | None = None) -> SyncResult:
        book = self.book
        if not self.live or book is None:
            self.buffer.append(delta)
            return _BUFFERED
        last = self.last_sequence
        if delta.sequence <= last:
            return _ALREADY_IN_BOOK
        if self.bridged:
            if delta.first_sequence != last + 1:
                return self._resync(
                    delta, "diff does not start where the previous one ended (U != u + 1)", last + 1, delta.first_sequence
                )
            if delta.prev_sequence and delta.prev_sequence != last:
                return self._resync(delta, "diff's pu is not the previous diff's u", last, delta.prev_sequence)
        elif delta.first_sequence > last + 1:
            return self._resync(
                delta, "first diff after the snapshot leaves a gap (U > lastUpdateId + 1)", last + 1, delta.first_sequence
            )
        if self._scales_differ(book, delta):
            return self._resync(delta, "price or size scale changed", last + 1, delta.first_sequence)
        book.apply(delta.bids, delta.asks)
        self.last_sequence = delta.sequence
        self.bridged = True
        if book.is_crossed():
            return self._resync(
                delta, f"book crossed: bid {book.best_bid()} ask {book.best_ask()}", delta.sequence, delta.sequence
            )
        return SyncResult(SyncStatus.APPLIED, (delta,))
