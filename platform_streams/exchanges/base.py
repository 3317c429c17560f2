"""The parsing side of a venue adapter: the parser base every exchange package implements, its
result types and its errors.

A parser (:class:`ExchangeParser`) turns one raw frame (bytes as received) into canonical
events. Frames it cannot turn into events raise a :class:`FrameError` subclass naming the
exchange and the reason, so the normalisation daemon can dead-letter them; control frames
(subscription acks, heartbeats, pongs) parse to no events and say what they were in
``ParsedFrame.control``.

Parsers remember per-symbol scales and recently parsed number text: after reloading
instrument metadata, build a new parser. Book events are checked by the exchange's
sync rule (``platform_streams.exchanges.<exchange>.book_sync``), fed with
``ParsedFrame.checksum`` and the depth of ``ParsedFrame.subscriptions``.

Conventions where an exchange sends less than a canonical event carries:

- no exchange sequence (Kraken v1 book/ticker, Coinbase level2, OKX books before ``seqId``):
  ``sequence`` is the frame's ``receive_ts_ns``, which is unique per frame of a connection
  and deterministic for a recorded frame, so event ids stay unique and replays stay
  idempotent; ``prev_sequence`` is 0 and ``first_sequence`` equals ``sequence``;
- no exchange timestamp (Binance ``bookTicker``, Kraken v1 ``ticker``, REST snapshots):
  ``exchange_ts_ns`` is the ``receive_ts_ns``.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import Protocol

import msgspec

from platform_streams.books.sync import BookChecksum, BookSync
from platform_streams.schemas.events import BestBidOffer, BookDelta, BookSnapshot, Candle, Trade

MarketEvent = Trade | BookSnapshot | BookDelta | BestBidOffer | Candle
"""The canonical events a parser produces."""


class FrameError(ValueError):
    """A frame that yields no canonical events and is not a control frame: dead-letter it with ``reason``."""

    def __init__(self, exchange: str, reason: str, frame: bytes = b"") -> None:
        preview = bytes(frame[:120]).decode("utf-8", "replace")
        super().__init__(f"{exchange}: {reason}" + (f" (frame starts {preview!r})" if frame else ""))
        self.exchange = exchange
        self.reason = reason
        self.frame = frame


class MalformedFrame(FrameError):
    """Not valid JSON, or JSON of the wrong shape or types, or a number that is not exact decimal text."""


class UnknownChannel(FrameError):
    """Well-formed, but a channel, event or message type this adapter does not handle."""


class UnknownInstrument(FrameError):
    """A symbol with no instrument metadata, on an exchange whose number text does not fix a scale."""


class ExchangeErrorFrame(FrameError):
    """The exchange reported an error (a rejected subscription, a bad request)."""


class BookSubscription(msgspec.Struct, frozen=True, gc=False):
    """What a frame says about the book subscription its book events belong to: the normalised
    ``symbol`` and the ``depth`` (levels a side) it was subscribed at. Kraken v1 names it in every
    book frame (``book-1000``), Kraken v2 in the subscribe acknowledgement; book rules that
    truncate take their depth from it, never from configuration."""

    symbol: str
    depth: int


class ParsedFrame(msgspec.Struct, gc=False):
    """What one raw frame became: canonical events in frame order, the checksum of the book
    event among them when the exchange sent one, the book subscriptions the frame states, and
    for control frames what they were."""

    events: list[MarketEvent]
    checksum: BookChecksum | None = None
    control: str = ""
    subscriptions: tuple[BookSubscription, ...] = ()


class BookFastPath(Protocol):
    """A native way to apply a book update frame to its instrument's live book and get what the
    normaliser publishes, ``(key, encoded BookDelta)``, without building events. It takes a frame only
    when the book is attached, still live at the frame's depth, fed by the same connection, and the
    update verifies; otherwise it returns None with the book untouched and the frame goes through
    :meth:`ExchangeParser.parse_frame` and the sync rule as usual."""

    def apply(self, frame: bytes, receive_ts_ns: int, connection_id: str) -> tuple[str, bytes] | None: ...

    def attach(self, symbol: str, sync: BookSync, connection_id: str) -> None:
        """Let the fast path update ``symbol``'s book (kept by ``sync``) while ``connection_id`` feeds it."""

    def detach(self, symbol: str) -> None: ...


TradeFastPath = Callable[[bytes, int], "tuple[str, bytes | list[bytes]] | None"]
"""``(frame, receive_ts_ns)`` → ``(key, encoded Trade)`` (or ``(key, [encoded Trade, ...])`` for a
frame of several trades of one instrument, in frame order), or None for a frame it does not take
(hand it to :meth:`ExchangeParser.parse_frame`, which reports a bad one). The top-of-book fast
path has the same shape, with an encoded ``BestBidOffer``."""


class ExchangeParser(abc.ABC):
    """Raw frame bytes plus the platform's receive time in, canonical events out; pure and reusable.

    One parser serves every connection of its exchange (or format). Besides WebSocket frames it
    answers what the normaliser must not know per venue: how a REST body fetched for a connection
    becomes events (:meth:`parse_rest`), the venue's name of a normalised symbol
    (:meth:`venue_symbol`), and a native fast path for trades where one exists
    (:meth:`trade_fast_path`)."""

    exchange: str

    @abc.abstractmethod
    def parse_frame(self, frame: bytes, receive_ts_ns: int) -> ParsedFrame:
        """The canonical events of one frame, with the book checksum and the control-frame kind;
        raises :class:`FrameError`."""

    def parse(self, frame: bytes, receive_ts_ns: int) -> list[MarketEvent]:
        """The canonical events of one frame ([] for a control frame); raises :class:`FrameError`."""
        return self.parse_frame(frame, receive_ts_ns).events

    def parse_rest(self, body: bytes, path: str, receive_ts_ns: int) -> ParsedFrame:
        """The events of a REST body ingestion fetched for a connection (a book snapshot), by its
        request ``path``; exchanges whose snapshots come on the socket have none."""
        raise FrameError(self.exchange, f"REST body for {path!r} is not a book snapshot this adapter reads", body)

    @abc.abstractmethod
    def venue_symbol(self, symbol: str) -> str:
        """The exchange's name of normalised ``symbol`` (what ingestion subscribed it by); raises
        :class:`UnknownInstrument` for a symbol this parser cannot name."""

    def trade_fast_path(self) -> TradeFastPath | None:
        """A faster way to the encoded trade of a trade frame, tried before :meth:`parse_frame`; None
        where there is none. Asked once per parser, never per frame."""
        return None

    def top_of_book_fast_path(self) -> TradeFastPath | None:
        """As :meth:`trade_fast_path`, for top-of-book frames: ``(key, encoded BestBidOffer)`` or None."""
        return None

    def book_fast_path(self) -> BookFastPath | None:
        """A faster way to apply book updates to live books (:class:`BookFastPath`), tried before
        :meth:`parse_frame`; None where there is none. Asked once per parser, never per frame."""
        return None
