"""OKX's book rule: a ``snapshot`` push, then ``update`` pushes, each checked by ``prevSeqId`` when sent
and by the CRC32 ``checksum`` of the top 25 levels.

The checksum string interleaves the best 25 bids and asks as
``bid1Px:bid1Sz:ask1Px:ask1Sz:bid2Px:...`` (a side with fewer levels just stops
contributing), prices and sizes in OKX's own text, which is their shortest decimal
spelling; the CRC32 is compared as a signed 32-bit integer. A gap, a mismatch or a
crossed book answers ``resync``: resubscribe the channel to get a new snapshot.
"""

from __future__ import annotations

from platform_streams.books.order_book import OrderBook
from platform_streams.books.sync import AWAITING_SNAPSHOT, BookChecksum, BookSync, SyncResult, SyncStatus
from platform_streams.exchanges.okx.instruments import EXCHANGE
from platform_streams.schemas.events import BookDelta, BookSnapshot


class OkxBookChecksum:
    """OKX's checksum of a book: the native book spells its top 25 levels and takes the CRC32
    (:meth:`OrderBook.okx_checksum`, ``native/src/book_checksum.rs``)."""

    def __call__(self, book: OrderBook) -> int:
        return book.okx_checksum()


class OkxBookSync(BookSync):
    """One OKX instrument's book from ``books``/``books-l2-tbt``/``books50-l2-tbt`` pushes.

    ``verify_checksums=False`` skips the CRC (for feeds that send ``checksum: 0``); the
    ``prevSeqId`` chain is always checked when the pushes carry it."""

    exchange = EXCHANGE

    def __init__(self, symbol: str, verify_checksums: bool = True) -> None:
        super().__init__(symbol)
        self.verify_checksums = verify_checksums
        self.checksum = OkxBookChecksum()

    def on_snapshot(self, snapshot: BookSnapshot, checksum: BookChecksum | None = None) -> SyncResult:
        book = self._load_snapshot(snapshot)
        mismatch = self._checksum_mismatch(book, checksum)
        if mismatch:
            return self._resync(snapshot, f"{mismatch} (snapshot)", snapshot.sequence, snapshot.sequence)
        return SyncResult(SyncStatus.APPLIED, (snapshot,))

    def on_delta(self, delta: BookDelta, checksum: BookChecksum | None = None) -> SyncResult:
        book = self.book
        if not self.live or book is None:
            return AWAITING_SNAPSHOT
        if self._scales_differ(book, delta):
            return self._resync(delta, "price or size scale changed", self.last_sequence, delta.sequence)
        if delta.prev_sequence and delta.prev_sequence != self.last_sequence:
            return self._resync(delta, "prevSeqId does not continue the book", self.last_sequence, delta.prev_sequence)
        book.apply(delta.bids, delta.asks)
        if book.is_crossed():
            return self._resync(
                delta, f"book crossed: bid {book.best_bid()} ask {book.best_ask()}", delta.sequence, delta.sequence
            )
        mismatch = self._checksum_mismatch(book, checksum)
        if mismatch:
            return self._resync(delta, mismatch, delta.sequence, delta.sequence)
        self.last_sequence = delta.sequence
        return SyncResult(SyncStatus.APPLIED, (delta,))

    def _checksum_mismatch(self, book: OrderBook, checksum: BookChecksum | None) -> str:
        """Why the checksum does not confirm the book ("" when it does, when there is none, or when not verifying)."""
        if checksum is None or not self.verify_checksums:
            return ""
        computed = self.checksum(book)
        return "" if computed == checksum.value else f"checksum mismatch: exchange {checksum.value}, rebuilt book {computed}"
