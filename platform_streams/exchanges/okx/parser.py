"""OKX v5 public frames → canonical events.

Channels: ``trades`` → :class:`Trade` (``sequence`` = tradeId, side = the taker's);
``books``, ``books-l2-tbt``, ``books50-l2-tbt`` → :class:`BookSnapshot` (action
``snapshot``) or :class:`BookDelta` (``update``) with the push's ``checksum`` in
``ParsedFrame.checksum``; ``sequence``/``prev_sequence`` are ``seqId``/``prevSeqId`` when
sent, otherwise (pushes before 2022) the receive-time convention of
:mod:`platform_streams.exchanges.base`; ``books5`` → :class:`BookSnapshot` on every
push; ``bbo-tbt`` and ``tickers`` → :class:`BestBidOffer`; ``candle<bar>`` →
:class:`Candle`. Replies (``subscribe``, ``unsubscribe``, ``login``,
``channel-conn-count``) and the text ``pong`` are control frames; ``error`` replies
raise :class:`ExchangeErrorFrame`. Prices and sizes need the instrument metadata.
"""

from __future__ import annotations

from functools import partial

import msgspec
from tradeplat_native import OkxBookUpdates, OkxTopOfBook, OkxTradeParser

from platform_streams.books.sync import BookChecksum
from platform_streams.exchanges.base import (
    BookFastPath,
    ExchangeErrorFrame,
    ExchangeParser,
    FrameError,
    MalformedFrame,
    ParsedFrame,
    TradeFastPath,
    UnknownChannel,
)
from platform_streams.exchanges.decimal_text import mantissa_at_scale
from platform_streams.exchanges.instruments import InstrumentRegistry
from platform_streams.exchanges.okx import messages
from platform_streams.exchanges.okx.instruments import EXCHANGE
from platform_streams.exchanges.symbol_scales import SymbolScales, SymbolScalesCache, native_symbol_entry
from platform_streams.exchanges.timestamps import TimestampError, milliseconds_text_to_ns
from platform_streams.schemas.events import BestBidOffer, BookDelta, BookSnapshot, Candle, Level, Side, Trade
from platform_streams.schemas.fixed_point import FixedPointError

BOOK_CHANNELS = frozenset({"books", "books-l2-tbt", "books50-l2-tbt"})
"""Channels of a snapshot followed by checksummed updates."""

CANDLE_BAR_SECONDS: dict[str, int] = {
    "1s": 1, "1m": 60, "3m": 180, "5m": 300, "15m": 900, "30m": 1800, "1H": 3600, "2H": 7200, "4H": 14400,
    "6H": 21600, "12H": 43200, "1D": 86400, "2D": 172800, "3D": 259200, "1W": 604800,
    "6Hutc": 21600, "12Hutc": 43200, "1Dutc": 86400, "2Dutc": 172800, "3Dutc": 259200, "1Wutc": 604800,
}  # fmt: skip
"""Candle bars of fixed length (month bars are refused)."""

CONTROL_EVENTS = frozenset({"subscribe", "unsubscribe", "login", "channel-conn-count", "notice"})

_envelope_decoder = msgspec.json.Decoder(messages.Envelope)
_books_decoder = msgspec.json.Decoder(list[messages.Book])
_trades_decoder = msgspec.json.Decoder(list[messages.Trade])
_tickers_decoder = msgspec.json.Decoder(list[messages.Ticker])
_candles_decoder = msgspec.json.Decoder(list[messages.Candle])

_DECODE_ERRORS = (msgspec.DecodeError, msgspec.ValidationError, FixedPointError, TimestampError)
_SIDES = {"buy": Side.BUY, "sell": Side.SELL}


class OkxParser(ExchangeParser):
    """Parses OKX v5 public frames at the scales of ``instruments`` (unknown instIds raise
    ``UnknownInstrument``). Trades, bbo-tbt pushes and book updates of live books have native
    fast paths (:meth:`trade_fast_path`, :meth:`top_of_book_fast_path`, :meth:`book_fast_path`)."""

    exchange = EXCHANGE

    def __init__(self, instruments: InstrumentRegistry) -> None:
        self._scales = SymbolScalesCache(EXCHANGE, instruments, None)
        self._book_updates = OkxBookUpdates(EXCHANGE, partial(native_symbol_entry, self._scales))
        self._native_tops = OkxTopOfBook(EXCHANGE, partial(native_symbol_entry, self._scales))
        self._native_trades = OkxTradeParser(EXCHANGE, partial(native_symbol_entry, self._scales))

    def trade_fast_path(self) -> TradeFastPath | None:
        """Pushes of one trade (``native/src/okx_trades.rs``); None for any it cannot map exactly."""
        return self._native_trades.parse

    def top_of_book_fast_path(self) -> TradeFastPath | None:
        """bbo-tbt pushes (``native/src/okx_top_of_book.rs``); None for any it cannot map exactly."""
        return self._native_tops.parse

    def book_fast_path(self) -> BookFastPath:
        return self._book_updates

    def venue_symbol(self, symbol: str) -> str:
        return self._scales.venue_symbol(symbol)

    def parse_frame(self, frame: bytes, receive_ts_ns: int) -> ParsedFrame:
        """Events of one frame, with the book push's checksum; raises ``FrameError`` subclasses."""
        if frame == b"pong":
            return ParsedFrame([], None, "pong")
        try:
            envelope = _envelope_decoder.decode(frame)
            if envelope.event is not None:
                return self._reply(envelope, frame)
            if envelope.arg is None or not envelope.data:
                raise MalformedFrame(EXCHANGE, "neither a push (arg and data) nor a reply (event)", frame)
            return self._push(envelope.arg, envelope.action, envelope.data, receive_ts_ns)
        except FrameError as exc:
            raise exc if exc.frame else type(exc)(EXCHANGE, exc.reason, frame) from None
        except _DECODE_ERRORS as exc:
            raise MalformedFrame(EXCHANGE, str(exc), frame) from None

    def _reply(self, envelope: messages.Envelope, frame: bytes) -> ParsedFrame:
        if envelope.event == "error":
            raise ExchangeErrorFrame(EXCHANGE, f"error {envelope.code}: {envelope.msg}", frame)
        if envelope.event not in CONTROL_EVENTS:
            raise UnknownChannel(EXCHANGE, f"reply event {envelope.event!r} is not one this adapter knows", frame)
        return ParsedFrame([], None, envelope.event)

    def _push(self, arg: messages.ChannelArg, action: str | None, data: msgspec.Raw, receive_ts_ns: int) -> ParsedFrame:
        channel = arg.channel
        if channel in BOOK_CHANNELS:
            return self._book(arg, action, data, receive_ts_ns)
        if channel == "trades":
            return ParsedFrame([self._trade(trade, receive_ts_ns) for trade in _trades_decoder.decode(data)])
        if channel == "tickers":
            return ParsedFrame([self._ticker(ticker, receive_ts_ns) for ticker in _tickers_decoder.decode(data)])
        if channel == "books5":
            books = _books_decoder.decode(data)
            return ParsedFrame([self._snapshot(self._inst_scales(arg, book), book, receive_ts_ns) for book in books])
        if channel == "bbo-tbt":
            return ParsedFrame(
                [self._bbo(self._inst_scales(arg, book), book, receive_ts_ns) for book in _books_decoder.decode(data)]
            )
        if channel.startswith("candle"):
            return ParsedFrame(
                [self._candle(arg, channel[6:], candle, receive_ts_ns) for candle in _candles_decoder.decode(data)]
            )
        raise UnknownChannel(EXCHANGE, f"channel {channel!r} is not one this adapter parses")

    def _book(self, arg: messages.ChannelArg, action: str | None, data: msgspec.Raw, receive_ts_ns: int) -> ParsedFrame:
        books = _books_decoder.decode(data)
        if len(books) != 1:
            raise MalformedFrame(EXCHANGE, f"{arg.channel} push with {len(books)} entries; OKX sends one per push")
        book = books[0]
        scales = self._inst_scales(arg, book)
        checksum = None if book.checksum is None else BookChecksum(book.checksum)
        if action == "snapshot":
            return ParsedFrame([self._snapshot(scales, book, receive_ts_ns)], checksum)
        if action == "update":
            return ParsedFrame([self._delta(scales, book, receive_ts_ns)], checksum)
        raise MalformedFrame(EXCHANGE, f"{arg.channel} push with action {action!r}; expected snapshot or update")

    def _inst_scales(self, arg: messages.ChannelArg, book: messages.Book) -> SymbolScales:
        inst_id = book.inst_id or arg.inst_id
        if inst_id is None:
            raise MalformedFrame(EXCHANGE, f"{arg.channel} push names no instId")
        return self._scales.resolve(inst_id)

    def _snapshot(self, scales: SymbolScales, book: messages.Book, receive_ts_ns: int) -> BookSnapshot:
        price_scale, size_scale = scales.price_scale, scales.size_scale
        return BookSnapshot(
            EXCHANGE,
            scales.symbol,
            milliseconds_text_to_ns(book.ts),
            receive_ts_ns,
            receive_ts_ns if book.seq_id is None else book.seq_id,
            _levels(book.bids, price_scale, size_scale),
            _levels(book.asks, price_scale, size_scale),
            price_scale,
            size_scale,
        )

    def _delta(self, scales: SymbolScales, book: messages.Book, receive_ts_ns: int) -> BookDelta:
        price_scale, size_scale = scales.price_scale, scales.size_scale
        sequence = receive_ts_ns if book.seq_id is None else book.seq_id
        return BookDelta(
            EXCHANGE,
            scales.symbol,
            milliseconds_text_to_ns(book.ts),
            receive_ts_ns,
            sequence,
            sequence,
            book.prev_seq_id or 0,
            _levels(book.bids, price_scale, size_scale),
            _levels(book.asks, price_scale, size_scale),
            price_scale,
            size_scale,
        )

    def _trade(self, trade: messages.Trade, receive_ts_ns: int) -> Trade:
        scales = self._scales.resolve(trade.inst_id)
        side = _SIDES.get(trade.side)
        if side is None:
            raise MalformedFrame(EXCHANGE, f"trade side {trade.side!r} is neither buy nor sell")
        return Trade(
            EXCHANGE,
            scales.symbol,
            milliseconds_text_to_ns(trade.ts),
            receive_ts_ns,
            int(trade.trade_id) if trade.trade_id.isdigit() else 0,
            trade.trade_id,
            side,
            mantissa_at_scale(trade.price, scales.price_scale),
            mantissa_at_scale(trade.size, scales.size_scale),
            scales.price_scale,
            scales.size_scale,
        )

    def _ticker(self, ticker: messages.Ticker, receive_ts_ns: int) -> BestBidOffer:
        scales = self._scales.resolve(ticker.inst_id)
        price_scale, size_scale = scales.price_scale, scales.size_scale
        return BestBidOffer(
            EXCHANGE,
            scales.symbol,
            milliseconds_text_to_ns(ticker.ts),
            receive_ts_ns,
            receive_ts_ns,
            _optional(ticker.bid_price, price_scale),
            _optional(ticker.bid_size, size_scale),
            _optional(ticker.ask_price, price_scale),
            _optional(ticker.ask_size, size_scale),
            price_scale,
            size_scale,
        )

    def _bbo(self, scales: SymbolScales, book: messages.Book, receive_ts_ns: int) -> BestBidOffer:
        price_scale, size_scale = scales.price_scale, scales.size_scale
        bid = book.bids[0] if book.bids else messages.BookLevel("0", "0")
        ask = book.asks[0] if book.asks else messages.BookLevel("0", "0")
        return BestBidOffer(
            EXCHANGE,
            scales.symbol,
            milliseconds_text_to_ns(book.ts),
            receive_ts_ns,
            receive_ts_ns if book.seq_id is None else book.seq_id,
            mantissa_at_scale(bid.price, price_scale),
            mantissa_at_scale(bid.size, size_scale),
            mantissa_at_scale(ask.price, price_scale),
            mantissa_at_scale(ask.size, size_scale),
            price_scale,
            size_scale,
        )

    def _candle(self, arg: messages.ChannelArg, bar: str, candle: messages.Candle, receive_ts_ns: int) -> Candle:
        interval_s = CANDLE_BAR_SECONDS.get(bar)
        if interval_s is None:
            raise UnknownChannel(EXCHANGE, f"candle bar {bar!r} has no fixed length")
        if arg.inst_id is None:
            raise MalformedFrame(EXCHANGE, "candle push names no instId")
        scales = self._scales.resolve(arg.inst_id)
        price_scale, size_scale = scales.price_scale, scales.size_scale
        return Candle(
            EXCHANGE,
            scales.symbol,
            receive_ts_ns,
            receive_ts_ns,
            receive_ts_ns,
            interval_s,
            milliseconds_text_to_ns(candle.open_ts),
            mantissa_at_scale(candle.open, price_scale),
            mantissa_at_scale(candle.high, price_scale),
            mantissa_at_scale(candle.low, price_scale),
            mantissa_at_scale(candle.close, price_scale),
            mantissa_at_scale(candle.volume, size_scale),
            0,
            candle.confirm == "1",
            price_scale,
            size_scale,
        )


def _levels(levels: list[messages.BookLevel], price_scale: int, size_scale: int) -> list[Level]:
    return [(mantissa_at_scale(level.price, price_scale), mantissa_at_scale(level.size, size_scale)) for level in levels]


def _optional(text: str, scale: int) -> int:
    """Ticker text, empty when the side is empty (then 0, as the canonical BBO spells an empty side)."""
    return mantissa_at_scale(text, scale) if text else 0
