"""The small adapter interface every exchange package implements, its result types and its errors.

A parser turns one raw frame (bytes as received) into canonical events. Frames it cannot
turn into events raise a :class:`FrameError` subclass naming the exchange and the reason,
so the normalisation daemon can dead-letter them; control frames (subscription acks,
heartbeats, pongs) parse to no events and say what they were in ``ParsedFrame.control``.

Parsers remember per-symbol scales and recently parsed number text: after reloading
instrument metadata, build a new parser. Book events are checked by the exchange's
sync rule (``platform_streams.exchanges.<exchange>.book_sync``), fed with
``ParsedFrame.checksum``.

Conventions where an exchange sends less than a canonical event carries:

- no exchange sequence (Kraken v1 book/ticker, Coinbase level2, OKX books before ``seqId``):
  ``sequence`` is the frame's ``receive_ts_ns``, which is unique per frame of a connection
  and deterministic for a recorded frame, so event ids stay unique and replays stay
  idempotent; ``prev_sequence`` is 0 and ``first_sequence`` equals ``sequence``;
- no exchange timestamp (Binance ``bookTicker``, Kraken v1 ``ticker``, REST snapshots):
  ``exchange_ts_ns`` is the ``receive_ts_ns``.
"""

from __future__ import annotations

from typing import Protocol

import msgspec

from platform_streams.schemas.events import BestBidOffer, BookDelta, BookSnapshot, Candle, Trade

MarketEvent = Trade | BookSnapshot | BookDelta | BestBidOffer | Candle
"""The canonical events a parser produces."""

BookEvent = BookSnapshot | BookDelta
"""The canonical events a book sync consumes."""


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


class BookChecksum(msgspec.Struct, frozen=True, gc=False):
    """An exchange's checksum of its book after one book event, as sent.

    Kraken computes its checksum over its own decimal text, whose number of decimals is
    not the instrument's scale: ``price_text_scale``/``size_text_scale`` keep those
    decimals so the text can be rebuilt exactly. ``None`` means the exchange's text is the
    shortest decimal spelling of the value (OKX)."""

    value: int
    price_text_scale: int | None = None
    size_text_scale: int | None = None


class ParsedFrame(msgspec.Struct, gc=False):
    """What one raw frame became: canonical events in frame order, the checksum of the book
    event among them when the exchange sent one, and for control frames what they were."""

    events: list[MarketEvent]
    checksum: BookChecksum | None = None
    control: str = ""


class ExchangeParser(Protocol):
    """Raw frame bytes plus the platform's receive time in, canonical events out; pure and reusable."""

    exchange: str

    def parse(self, frame: bytes, receive_ts_ns: int) -> list[MarketEvent]:
        """The canonical events of one frame ([] for a control frame); raises :class:`FrameError`."""
        ...

    def parse_frame(self, frame: bytes, receive_ts_ns: int) -> ParsedFrame:
        """As :meth:`parse`, plus the book checksum and the control-frame kind."""
        ...
