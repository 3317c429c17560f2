"""Coinbase Exchange ``level2``'s book rule: a ``snapshot``, then ``l2update`` changes applied in order.

The ``ws-feed`` level2 channel carries no sequence number and no checksum, so a lost
update cannot be detected from the feed itself; the only check is that the book never
crosses. A crossed book answers ``resync`` (resubscribe to get a new snapshot), and a
reconnect must be reported through :meth:`BookSync.reset`.
"""

from __future__ import annotations

from platform_streams.books.sync import AWAITING_SNAPSHOT, BookChecksum, BookSync, SyncResult, SyncStatus
from platform_streams.exchanges.coinbase.instruments import EXCHANGE
from platform_streams.schemas.events import BookDelta, BookSnapshot


class CoinbaseBookSync(BookSync):
    """One Coinbase product's level2 book."""

    exchange = EXCHANGE

    def on_snapshot(self, snapshot: BookSnapshot, checksum: BookChecksum | None = None) -> SyncResult:
        return self._load_checked_snapshot(snapshot)

    def on_delta(self, delta: BookDelta, checksum: BookChecksum | None = None) -> SyncResult:
        book = self.book
        if not self.live or book is None:
            return AWAITING_SNAPSHOT
        if self._scales_differ(book, delta):
            return self._resync(delta, "price or size scale changed")
        book.apply(delta.bids, delta.asks)
        if book.is_crossed():
            return self._resync(delta, f"book crossed: bid {book.best_bid()} ask {book.best_ask()}")
        self.last_sequence = delta.sequence
        return SyncResult(SyncStatus.APPLIED, (delta,))
