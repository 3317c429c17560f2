"""The shared shape of the per-exchange book-sync rules: what they answer and the state they keep.

A sync rule (``platform_streams.exchanges.<exchange>.book_sync``) is fed the canonical
:class:`BookSnapshot`/:class:`BookDelta` events of one instrument, in arrival order, with
the exchange's checksum where it sends one (:class:`BookChecksum`, from the parser's
``ParsedFrame.checksum``), and answers with a
:class:`SyncResult`: ``applied`` (publish the events it lists), ``buffered`` (kept until
the snapshot they continue), ``dropped`` (already in the book, or waiting for a snapshot)
or ``resync`` (the book is wrong or cannot be continued: publish ``result.resync`` and
fetch a new snapshot or resubscribe). After a resync every delta is dropped (or, on
Binance, buffered) until the next snapshot, so a wrong book is never served.

Where the exchange's rule depends on how deep the book was subscribed (Kraken truncates
to the subscribed depth), ``depth`` is set from the subscription the frames belong to
(the parser reports it, ``ParsedFrame.subscriptions``), never from configuration. This
package imports no exchange adapter: the adapters build on it.
"""

from __future__ import annotations

import abc
import enum

import msgspec

from platform_streams.books.order_book import OrderBook
from platform_streams.schemas.events import BookDelta, BookResync, BookSnapshot

BookEvent = BookSnapshot | BookDelta
"""The canonical events a book sync consumes."""


class BookChecksum(msgspec.Struct, frozen=True, gc=False):
    """An exchange's checksum of its book after one book event, as sent.

    Kraken computes its checksum over its own decimal text, whose number of decimals is
    not the instrument's scale: ``price_text_scale``/``size_text_scale`` keep those
    decimals so the text can be rebuilt exactly. ``None`` means the exchange's text is the
    shortest decimal spelling of the value (OKX)."""

    value: int
    price_text_scale: int | None = None
    size_text_scale: int | None = None


class SyncStatus(enum.Enum):
    """What a sync rule did with one event."""

    APPLIED = "applied"
    BUFFERED = "buffered"
    DROPPED = "dropped"
    RESYNC = "resync"


class SyncResult(msgspec.Struct, frozen=True, gc=False):
    """The answer to one event: ``applied`` lists the events now in the book, in order (a
    snapshot may bring buffered deltas with it); ``resync`` is the event to publish when
    the book must be rebuilt; ``reason`` says why anything was not applied."""

    status: SyncStatus
    applied: tuple[BookEvent, ...] = ()
    reason: str = ""
    resync: BookResync | None = None


class BookSyncMisuse(ValueError):
    """An event for another instrument was given to this instrument's sync rule."""


class BookSync(abc.ABC):
    """Base of the exchange sync rules: one instrument's book, whether it is live, and its last sequence.

    Subclasses implement :meth:`on_snapshot` and :meth:`on_delta` with their exchange's rule."""

    exchange = ""

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.book: OrderBook | None = None
        self.live = False
        self.last_sequence = 0
        self.depth = 0  # levels a side of the subscription the events belong to (0: unknown, or not limited)

    def on_event(self, event: BookEvent, checksum: BookChecksum | None = None) -> SyncResult:
        """Dispatch a snapshot or a delta to its rule."""
        if event.symbol != self.symbol:
            raise BookSyncMisuse(f"{event.exchange}:{event.symbol} event given to the {self.exchange}:{self.symbol} book")
        if isinstance(event, BookDelta):
            return self.on_delta(event, checksum)
        return self.on_snapshot(event, checksum)

    @abc.abstractmethod
    def on_snapshot(self, snapshot: BookSnapshot, checksum: BookChecksum | None = None) -> SyncResult:
        """Load a snapshot (and whatever it makes applicable)."""

    @abc.abstractmethod
    def on_delta(self, delta: BookDelta, checksum: BookChecksum | None = None) -> SyncResult:
        """Apply, buffer, drop or reject one delta."""

    def reset(self, reason: str, exchange_ts_ns: int, receive_ts_ns: int) -> SyncResult:
        """Invalidate the book from outside (a reconnect, an unsubscribe): wait for a new snapshot."""
        self.live = False
        return SyncResult(
            SyncStatus.RESYNC, reason=reason, resync=self._resync_event(reason, 0, 0, exchange_ts_ns, receive_ts_ns)
        )

    def _load_snapshot(self, snapshot: BookSnapshot) -> OrderBook:
        book = self.book
        if book is None or book.price_scale != snapshot.price_scale or book.size_scale != snapshot.size_scale:
            book = self.book = OrderBook(snapshot.price_scale, snapshot.size_scale)
        book.load(snapshot.bids, snapshot.asks)
        self.last_sequence = snapshot.sequence
        self.live = True
        return book

    def _load_checked_snapshot(self, snapshot: BookSnapshot) -> SyncResult:
        """Load a snapshot that carries no checksum: applied, or a resync when it is crossed."""
        book = self._load_snapshot(snapshot)
        if book.is_crossed():
            return self._resync(snapshot, f"snapshot crossed: bid {book.best_bid()} ask {book.best_ask()}")
        return SyncResult(SyncStatus.APPLIED, (snapshot,))

    def _scales_differ(self, book: OrderBook, delta: BookDelta) -> bool:
        has_levels = bool(delta.bids or delta.asks)
        return has_levels and (delta.price_scale != book.price_scale or delta.size_scale != book.size_scale)

    def _resync(self, event: BookEvent, reason: str, expected: int = 0, received: int = 0) -> SyncResult:
        self.live = False
        resync = self._resync_event(reason, expected, received, event.exchange_ts_ns, event.receive_ts_ns)
        return SyncResult(SyncStatus.RESYNC, reason=reason, resync=resync)

    def _resync_event(self, reason: str, expected: int, received: int, exchange_ts_ns: int, receive_ts_ns: int) -> BookResync:
        return BookResync(
            self.exchange, self.symbol, exchange_ts_ns, receive_ts_ns, self.last_sequence, reason, expected, received
        )


def dropped(reason: str) -> SyncResult:
    """A ``dropped`` answer with its reason."""
    return SyncResult(SyncStatus.DROPPED, reason=reason)


AWAITING_SNAPSHOT = dropped("no snapshot since the last resync")
"""The answer to a delta that arrives while the book waits for a snapshot (OKX, Kraken, Coinbase)."""
