"""Kraken's book rule (WebSocket v1, and v2 which keeps it): a snapshot, then updates, each followed by
truncation to the subscribed depth and a check of its CRC32 checksum.

The checksum string is the top 10 asks (lowest first) then the top 10 bids (highest
first), each level as its price then its volume, written as Kraken wrote them (with the
pair's fixed number of decimals, kept in :class:`BookChecksum`) with the dot and the
leading zeros removed; the CRC32 is compared as an unsigned integer. v1 sends it with
updates only, v2 with snapshots too. Republished levels (v1's ``"r"``) are applied like
any other. Kraken sends no removal for a level pushed out of the subscribed depth, hence
the truncation, at the depth of the subscription the frames belong to (``depth``, set from
v1's channel name ``book-<depth>`` or v2's subscribe acknowledgement; a book whose
subscription depth is unknown is not served: it answers ``resync``, and the resubscription
brings an acknowledgement). A mismatch or a crossed book answers ``resync``: resubscribe
the pair's book.
"""

from __future__ import annotations

import msgspec

from platform_streams.books.order_book import LevelTextError, OrderBook
from platform_streams.books.sync import AWAITING_SNAPSHOT, BookChecksum, BookSync, SyncResult, SyncStatus
from platform_streams.exchanges.kraken.endpoints import BOOK_DEPTHS
from platform_streams.exchanges.kraken.instruments import EXCHANGE
from platform_streams.schemas.events import BookDelta, BookSnapshot
from platform_streams.schemas.fixed_point import FixedPointError

UNKNOWN_DEPTH_REASON = "subscribed book depth unknown (its subscription's acknowledgement was not read)"


def kraken_checksum(book: OrderBook, price_text_scale: int, size_text_scale: int) -> int:
    """Kraken's CRC32 of the top 10 asks then bids, with Kraken's text rebuilt at the given decimals
    (:meth:`OrderBook.kraken_checksum`, ``native/src/book_checksum.rs``); raises
    :class:`FixedPointError` when a level cannot be written with those decimals."""
    try:
        return book.kraken_checksum(price_text_scale, size_text_scale)
    except LevelTextError as exc:
        raise FixedPointError(str(exc)) from exc


class KrakenBookChecksum:
    """Computes Kraken's checksum of a book (:func:`kraken_checksum`)."""

    def __call__(self, book: OrderBook, price_text_scale: int, size_text_scale: int) -> int:
        return kraken_checksum(book, price_text_scale, size_text_scale)


class KrakenBookSync(BookSync):
    """One Kraken pair's book, kept at the depth it was subscribed at (10, 25, 100, 500 or 1000)."""

    exchange = EXCHANGE

    def __init__(self, symbol: str) -> None:
        super().__init__(symbol)
        self.checksum = KrakenBookChecksum()

    def on_snapshot(self, snapshot: BookSnapshot, checksum: BookChecksum | None = None) -> SyncResult:
        depth = self.depth
        if depth not in BOOK_DEPTHS:
            return self._resync(snapshot, UNKNOWN_DEPTH_REASON if not depth else f"book depth {depth} is not one Kraken sends")
        book = self._load_snapshot(snapshot)
        if book.truncate(depth):  # publish the book as kept, not deeper than subscribed
            snapshot = msgspec.structs.replace(snapshot, bids=book.top_bids(depth), asks=book.top_asks(depth))
        if book.is_crossed():
            return self._resync(snapshot, f"snapshot crossed: bid {book.best_bid()} ask {book.best_ask()}")
        mismatch = self._checksum_mismatch(book, checksum)
        if mismatch:
            return self._resync(snapshot, f"{mismatch} (snapshot)")
        return SyncResult(SyncStatus.APPLIED, (snapshot,))

    def on_delta(self, delta: BookDelta, checksum: BookChecksum | None = None) -> SyncResult:
        book = self.book
        if not self.live or book is None:
            return AWAITING_SNAPSHOT
        if self._scales_differ(book, delta):
            return self._resync(delta, "price or size scale changed")
        book.apply(delta.bids, delta.asks)
        dropped_bids, dropped_asks = book.truncate_levels(self.depth)
        if dropped_bids or dropped_asks:
            # Kraken sends no removal for a level pushed out of the subscribed depth: publish one,
            # so a consumer of md.book never keeps a level the exchange stopped telling us about
            delta = msgspec.structs.replace(
                delta, bids=[*delta.bids, *((p, 0) for p in dropped_bids)], asks=[*delta.asks, *((p, 0) for p in dropped_asks)]
            )
        # the checksum first: a book that lost an update fails it whether or not the loss also crossed it
        mismatch = self._checksum_mismatch(book, checksum)
        if mismatch:
            return self._resync(delta, mismatch)
        if book.is_crossed():
            return self._resync(delta, f"book crossed: bid {book.best_bid()} ask {book.best_ask()}")
        self.last_sequence = delta.sequence
        return SyncResult(SyncStatus.APPLIED, (delta,))

    def _checksum_mismatch(self, book: OrderBook, checksum: BookChecksum | None) -> str:
        """Why the checksum does not confirm the book ("" when it does, or when there is none)."""
        if checksum is None:
            return ""
        if checksum.price_text_scale is None or checksum.size_text_scale is None:
            return "cannot verify the checksum: no decimals of Kraken's text"
        try:
            computed = self.checksum(book, checksum.price_text_scale, checksum.size_text_scale)
        except FixedPointError as exc:
            return f"cannot verify the checksum: book levels cannot be written as Kraken's text: {exc}"
        return "" if computed == checksum.value else f"checksum mismatch: exchange {checksum.value}, rebuilt book {computed}"
