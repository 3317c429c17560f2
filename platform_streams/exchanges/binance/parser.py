"""Binance spot frames → canonical events, for raw (``/ws``) and combined (``/stream``) streams.

Channels: ``trade`` and ``aggTrade`` → :class:`Trade` (``sequence`` = trade id / aggregate
trade id, ``exchange_ts_ns`` = trade time); ``depth``/``depth@100ms`` → :class:`BookDelta`
(``first_sequence`` = U, ``sequence`` = u, ``prev_sequence`` = pu or 0); ``bookTicker`` →
:class:`BestBidOffer` (``sequence`` = u); ``kline_<interval>`` → :class:`Candle`
(``sequence`` = last trade id); ``depth<N>`` partial depth (combined streams only, as
its payload names no symbol) → :class:`BookSnapshot`. REST ``/api/v3/depth?symbol=...`` bodies go
through :meth:`BinanceParser.parse_rest` (the symbol from the request path). Subscription replies are control
frames; error replies raise :class:`ExchangeErrorFrame`.

Trades are the hot path and are mapped in native code (``native/src/``, the
``tradeplat_native`` extension): :meth:`BinanceParser.parse_trade_fast` turns a trade or
aggTrade frame, in the shapes Binance sends, straight into the Kafka key and the encoded
:class:`Trade` (what the normaliser produces), and :meth:`BinanceParser.parse` decodes that
into the event. Every other frame is recognised by its first bytes and decoded in one pass
into the union of ``"e"``-tagged events (frames without ``"e"`` fall back to ``bookTicker``,
then to dispatch by stream name); a trade found that way (keys in another order, say) is
respelled as Binance's raw event and mapped by the same native code, so the trade mapping
has one definition. Per-symbol scales come from one dict lookup (the native code asks for
them once per symbol) and book prices and sizes from a text cache.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from urllib.parse import parse_qs, urlsplit

import msgspec
from tradeplat_native import BinanceDepthUpdates, BinanceTopOfBook, MalformedTrade
from tradeplat_native import BinanceTradeParser as NativeTradeParser

from platform_streams.exchanges.base import (
    BookFastPath,
    ExchangeErrorFrame,
    ExchangeParser,
    FrameError,
    MalformedFrame,
    MarketEvent,
    ParsedFrame,
    TradeFastPath,
    UnknownChannel,
    UnknownInstrument,
)
from platform_streams.exchanges.binance import messages
from platform_streams.exchanges.binance.instruments import EXCHANGE, symbol_without_metadata
from platform_streams.exchanges.decimal_text import mantissa_at_scale
from platform_streams.exchanges.instruments import InstrumentRegistry
from platform_streams.exchanges.symbol_scales import SymbolScales, SymbolScalesCache, native_symbol_entry
from platform_streams.schemas.events import BestBidOffer, BookDelta, BookSnapshot, Candle, Level, Trade
from platform_streams.schemas.fixed_point import FixedPointError

NS_PER_MS = 1_000_000

KLINE_INTERVAL_SECONDS: dict[str, int] = {
    "1s": 1, "1m": 60, "3m": 180, "5m": 300, "15m": 900, "30m": 1800, "1h": 3600, "2h": 7200, "4h": 14400,
    "6h": 21600, "8h": 28800, "12h": 43200, "1d": 86400, "3d": 259200, "1w": 604800,
}  # fmt: skip
"""Kline intervals of fixed length (``1M`` is a calendar month and is refused)."""

_stream_name_decoder = msgspec.json.Decoder(messages.StreamName)
_event_decoder = msgspec.json.Decoder(messages.StreamEvent)
_book_ticker_decoder = msgspec.json.Decoder(messages.BookTicker)
_depth_snapshot_decoder = msgspec.json.Decoder(messages.DepthSnapshot)
_any_frame_decoder = msgspec.json.Decoder(messages.AnyFrame)
_trade_frame_decoder = msgspec.json.Decoder(messages.StreamFrame[messages.Trade])
_agg_trade_frame_decoder = msgspec.json.Decoder(messages.StreamFrame[messages.AggTrade])
_depth_frame_decoder = msgspec.json.Decoder(messages.StreamFrame[messages.DepthUpdate])
_book_ticker_frame_decoder = msgspec.json.Decoder(messages.StreamFrame[messages.BookTicker])
_kline_frame_decoder = msgspec.json.Decoder(messages.StreamFrame[messages.Kline])
_partial_depth_frame_decoder = msgspec.json.Decoder(messages.StreamFrame[messages.DepthSnapshot])
_combined_event_decoder = msgspec.json.Decoder(messages.StreamFrame[messages.StreamEvent])
_trade_decoder = msgspec.msgpack.Decoder(Trade)
_COMBINED_PREFIX = b'{"stream":"'
_BOOK_TICKER_STREAM = b'@bookTicker","data":'

_DECODE_ERRORS = (msgspec.DecodeError, msgspec.ValidationError, FixedPointError, MalformedTrade)

FrameHandler = Callable[[bytes, int], list[MarketEvent]]


def _symbol_or_unknown(exchange_symbol: str) -> str:
    try:
        return symbol_without_metadata(exchange_symbol)
    except ValueError as exc:
        raise UnknownInstrument(EXCHANGE, str(exc)) from None


class BinanceParser(ExchangeParser):
    """Parses Binance spot frames; ``instruments`` gives the scales (without it, the text's own 8 decimals)."""

    exchange = EXCHANGE

    def __init__(self, instruments: InstrumentRegistry | None = None, require_metadata: bool = False) -> None:
        # without metadata a symbol's name is split by known quote assets (captures, replays); a
        # live normaliser requires metadata, since a split can be wrong (``ADAEUR``: ``AD/AEUR``?)
        self._scales = SymbolScalesCache(EXCHANGE, instruments, None if require_metadata else _symbol_or_unknown)
        self._resolved = self._scales.resolved
        self._native_trades = NativeTradeParser(EXCHANGE, partial(native_symbol_entry, self._scales))
        self._depth_updates = BinanceDepthUpdates(EXCHANGE, partial(native_symbol_entry, self._scales))
        self._native_tops = BinanceTopOfBook(EXCHANGE, partial(native_symbol_entry, self._scales))

    def trade_fast_path(self) -> TradeFastPath | None:
        return self.parse_trade_fast

    def top_of_book_fast_path(self) -> TradeFastPath | None:
        """Combined-stream bookTicker frames (``native/src/binance_top_of_book.rs``); None for any
        it cannot map exactly, which :meth:`parse_frame` then reports."""
        return self._native_tops.parse

    def book_fast_path(self) -> BookFastPath:
        """Depth diffs of live, bridged books (``native/src/binance_depth_updates.rs``)."""
        return self._depth_updates

    def venue_symbol(self, symbol: str) -> str:
        return self._scales.venue_symbol(symbol)

    def parse_trade_fast(self, frame: bytes, receive_ts_ns: int) -> tuple[str, bytes] | None:
        """``(key, encoded Trade)`` of a trade or aggTrade frame as Binance sends it, without building
        the event; None for any other frame (hand it to :meth:`parse_frame`). Raises like :meth:`parse`."""
        try:
            return self._native_trades.parse(frame, receive_ts_ns)
        except MalformedTrade as exc:
            raise MalformedFrame(EXCHANGE, str(exc), frame) from None
        except FrameError as exc:  # from the symbol lookup: UnknownInstrument
            raise exc if exc.frame else type(exc)(EXCHANGE, exc.reason, frame) from None

    def parse(self, frame: bytes, receive_ts_ns: int) -> list[MarketEvent]:
        """Canonical events of one frame; [] for a subscription reply; raises ``FrameError`` subclasses."""
        trade = self.parse_trade_fast(frame, receive_ts_ns)
        if trade is not None:
            return [_trade_decoder.decode(trade[1])]
        return self._parse_events(frame, receive_ts_ns)

    def _parse_events(self, frame: bytes, receive_ts_ns: int) -> list[MarketEvent]:
        """:meth:`parse` without the native trade path (a trade still maps through it, respelled)."""
        try:
            if frame.startswith(_COMBINED_PREFIX):
                if frame.find(_BOOK_TICKER_STREAM, 12, 64) > 0:  # the busiest stream without "e": decoded as itself
                    try:
                        return [self._book_ticker(_book_ticker_frame_decoder.decode(frame).data, receive_ts_ns)]
                    except msgspec.ValidationError:
                        pass  # a name that merely looks like it: the general dispatch tells
                try:
                    event = _combined_event_decoder.decode(frame).data
                except msgspec.ValidationError:  # no "e" (bookTicker, partial depth), another event type, or bad
                    return self._combined_without_event_type(frame, receive_ts_ns)
            elif frame.startswith(b'{"e":'):
                try:
                    event = _event_decoder.decode(frame)
                except msgspec.ValidationError:
                    return self._parse_other(frame, receive_ts_ns)  # tells an unknown event type from a bad one
            elif frame.startswith(b'{"u":'):
                return [self._book_ticker(_book_ticker_decoder.decode(frame), receive_ts_ns)]
            else:
                return self._parse_other(frame, receive_ts_ns)
            return self._stream_event(event, receive_ts_ns)
        except _DECODE_ERRORS as exc:
            raise MalformedFrame(EXCHANGE, str(exc), frame) from None
        except FrameError as exc:
            raise exc if exc.frame else type(exc)(EXCHANGE, exc.reason, frame) from None

    def parse_frame(self, frame: bytes, receive_ts_ns: int) -> ParsedFrame:
        """As :meth:`parse`, for a frame the trade fast path did not take (the normaliser tries it
        first; a trade given here is mapped by the same native code, respelled); Binance sends no
        book checksum."""
        events = self._parse_events(frame, receive_ts_ns)
        return ParsedFrame(events, None, "" if events else "reply")

    def parse_rest(self, body: bytes, path: str, receive_ts_ns: int) -> ParsedFrame:
        """A ``/api/v3/depth?symbol=...`` body (the snapshot a depth stream is bridged to)."""
        request = urlsplit(path)
        symbols = parse_qs(request.query).get("symbol")
        if request.path != "/api/v3/depth" or not symbols:
            return super().parse_rest(body, path, receive_ts_ns)
        return ParsedFrame([self.parse_depth_snapshot(body, symbols[0], receive_ts_ns)])

    def parse_depth_snapshot(self, body: bytes, exchange_symbol: str, receive_ts_ns: int) -> BookSnapshot:
        """A REST ``/api/v3/depth`` body for ``exchange_symbol`` → snapshot with ``sequence`` = lastUpdateId."""
        try:
            return self._depth_snapshot(exchange_symbol, _depth_snapshot_decoder.decode(body), receive_ts_ns)
        except _DECODE_ERRORS as exc:
            raise MalformedFrame(EXCHANGE, f"depth snapshot: {exc}", body) from None

    # -- dispatch --------------------------------------------------------------------------

    def _combined_without_event_type(self, frame: bytes, receive_ts_ns: int) -> list[MarketEvent]:
        """Combined-stream frames the event-type union did not take: bookTicker first (the busiest stream), then by name."""
        try:
            return [self._book_ticker(_book_ticker_frame_decoder.decode(frame).data, receive_ts_ns)]
        except msgspec.ValidationError:
            return self._frame_handler(frame)(frame, receive_ts_ns)

    def _frame_handler(self, frame: bytes) -> FrameHandler:
        """The handler of a combined-stream frame, by its stream name; raises for a channel this adapter does not parse."""
        stream = _stream_name_decoder.decode(frame).stream
        stream_symbol, _, channel = stream.partition("@")
        handler: FrameHandler
        if channel == "trade":
            handler = self._trade_frame
        elif channel == "aggTrade":
            handler = self._agg_trade_frame
        elif channel in ("depth", "depth@100ms", "depth@1000ms"):
            handler = self._depth_frame
        elif channel == "bookTicker":
            handler = self._book_ticker_frame
        elif channel.startswith("kline_"):
            handler = self._kline_frame
        elif channel.startswith("depth") and channel[5:].partition("@")[0] in ("5", "10", "20"):
            handler = partial(self._partial_depth_frame, stream_symbol.upper())
        else:
            raise UnknownChannel(EXCHANGE, f"stream {stream!r} is not a channel this adapter parses")
        return handler

    def _stream_event(self, event: messages.StreamEvent, receive_ts_ns: int) -> list[MarketEvent]:
        if type(event) is messages.DepthUpdate:
            return [self._depth(event, receive_ts_ns)]
        if type(event) is messages.Trade or type(event) is messages.AggTrade:
            return [self._trade_message(event, receive_ts_ns)]
        return [self._kline(event, receive_ts_ns)]  # the union's last member: Kline

    def _parse_other(self, frame: bytes, receive_ts_ns: int) -> list[MarketEvent]:
        """Frames the prefix checks did not recognise: other key orders, replies, errors, unknown events."""
        shape = _any_frame_decoder.decode(frame)
        if shape.stream is not None:
            return self._frame_handler(frame)(frame, receive_ts_ns)
        if shape.error is not None:
            raise ExchangeErrorFrame(EXCHANGE, f"error {shape.error.code}: {shape.error.msg}", frame)
        if shape.code is not None:
            raise ExchangeErrorFrame(EXCHANGE, f"error {shape.code}: {shape.msg}", frame)
        if shape.result is not msgspec.UNSET and shape.id is not None:
            return []
        if shape.e is not None:
            if shape.e not in ("trade", "aggTrade", "depthUpdate", "kline"):
                raise UnknownChannel(EXCHANGE, f"event type {shape.e!r} is not one this adapter parses", frame)
            return self._stream_event(_event_decoder.decode(frame), receive_ts_ns)
        if shape.u is not None:
            return [self._book_ticker(_book_ticker_decoder.decode(frame), receive_ts_ns)]
        if shape.last_update_id is not None:
            raise UnknownChannel(EXCHANGE, "partial depth without a stream name names no symbol: use combined streams", frame)
        raise UnknownChannel(EXCHANGE, "frame is none of: stream event, combined-stream frame, reply", frame)

    # -- combined-stream frames -----------------------------------------------------------

    def _trade_frame(self, frame: bytes, receive_ts_ns: int) -> list[MarketEvent]:
        return [self._trade_message(_trade_frame_decoder.decode(frame).data, receive_ts_ns)]

    def _agg_trade_frame(self, frame: bytes, receive_ts_ns: int) -> list[MarketEvent]:
        return [self._trade_message(_agg_trade_frame_decoder.decode(frame).data, receive_ts_ns)]

    def _depth_frame(self, frame: bytes, receive_ts_ns: int) -> list[MarketEvent]:
        return [self._depth(_depth_frame_decoder.decode(frame).data, receive_ts_ns)]

    def _book_ticker_frame(self, frame: bytes, receive_ts_ns: int) -> list[MarketEvent]:
        return [self._book_ticker(_book_ticker_frame_decoder.decode(frame).data, receive_ts_ns)]

    def _kline_frame(self, frame: bytes, receive_ts_ns: int) -> list[MarketEvent]:
        return [self._kline(_kline_frame_decoder.decode(frame).data, receive_ts_ns)]

    def _partial_depth_frame(self, exchange_symbol: str, frame: bytes, receive_ts_ns: int) -> list[MarketEvent]:
        return [self._depth_snapshot(exchange_symbol, _partial_depth_frame_decoder.decode(frame).data, receive_ts_ns)]

    # -- messages → canonical events -------------------------------------------------------

    def _trade_message(self, message: messages.Trade | messages.AggTrade, receive_ts_ns: int) -> Trade:
        """A trade the native path did not take as sent (other key order or spacing, escapes, duplicate
        keys), respelled as the raw event Binance sends and mapped by the same native code. Fields the
        canonical trade does not carry are zeroed: only the mapped fields' values can matter."""
        if type(message) is messages.Trade:
            respelled = msgspec.structs.replace(message, event_time=0)
        else:
            respelled = msgspec.structs.replace(message, event_time=0, first_trade_id=0, last_trade_id=0)
        trade = self._native_trades.parse(msgspec.json.encode(respelled), receive_ts_ns)
        if trade is None:  # never: msgspec writes a trade in the one spelling the native path always takes
            raise MalformedFrame(EXCHANGE, "the native trade path did not take a trade in Binance's own spelling")
        return _trade_decoder.decode(trade[1])

    def _depth(self, update: messages.DepthUpdate, receive_ts_ns: int) -> BookDelta:
        scales = self._level_scales(update.symbol, update.bids, update.asks)
        price_scale, size_scale = scales.price_scale, scales.size_scale
        return BookDelta(
            EXCHANGE,
            scales.symbol,
            update.event_time * NS_PER_MS,
            receive_ts_ns,
            update.final_update_id,
            update.first_update_id,
            update.previous_final_update_id,
            _levels(update.bids, scales),
            _levels(update.asks, scales),
            price_scale,
            size_scale,
        )

    def _depth_snapshot(self, exchange_symbol: str, snapshot: messages.DepthSnapshot, receive_ts_ns: int) -> BookSnapshot:
        scales = self._level_scales(exchange_symbol, snapshot.bids, snapshot.asks)
        price_scale, size_scale = scales.price_scale, scales.size_scale
        return BookSnapshot(
            EXCHANGE,
            scales.symbol,
            receive_ts_ns,
            receive_ts_ns,
            snapshot.last_update_id,
            _levels(snapshot.bids, scales),
            _levels(snapshot.asks, scales),
            price_scale,
            size_scale,
        )

    def _book_ticker(self, ticker: messages.BookTicker, receive_ts_ns: int) -> BestBidOffer:
        scales = self._resolved.get(ticker.symbol) or self._scales.resolve(ticker.symbol, ticker.bid_price, ticker.bid_quantity)
        price_scale, size_scale = scales.price_scale, scales.size_scale
        return BestBidOffer(
            EXCHANGE,
            scales.symbol,
            ticker.event_time * NS_PER_MS if ticker.event_time else receive_ts_ns,
            receive_ts_ns,
            ticker.update_id,
            scales.prices(ticker.bid_price),
            scales.sizes(ticker.bid_quantity),
            scales.prices(ticker.ask_price),
            scales.sizes(ticker.ask_quantity),
            price_scale,
            size_scale,
        )

    def _kline(self, kline: messages.Kline, receive_ts_ns: int) -> Candle:
        bar = kline.bar
        interval_s = KLINE_INTERVAL_SECONDS.get(bar.interval)
        if interval_s is None:
            raise UnknownChannel(EXCHANGE, f"kline interval {bar.interval!r} has no fixed length")
        scales = self._resolved.get(kline.symbol) or self._scales.resolve(kline.symbol, bar.open, bar.volume)
        price_scale, size_scale = scales.price_scale, scales.size_scale
        return Candle(
            EXCHANGE,
            scales.symbol,
            kline.event_time * NS_PER_MS,
            receive_ts_ns,
            max(bar.last_trade_id, 0),
            interval_s,
            bar.open_time * NS_PER_MS,
            mantissa_at_scale(bar.open, price_scale),
            mantissa_at_scale(bar.high, price_scale),
            mantissa_at_scale(bar.low, price_scale),
            mantissa_at_scale(bar.close, price_scale),
            mantissa_at_scale(bar.volume, size_scale),
            bar.trade_count,
            bar.closed,
            price_scale,
            size_scale,
        )

    def _level_scales(
        self, exchange_symbol: str, bids: list[messages.PriceLevel], asks: list[messages.PriceLevel]
    ) -> SymbolScales:
        scales = self._resolved.get(exchange_symbol)
        if scales is not None:
            return scales
        first = bids[0] if bids else asks[0] if asks else ("", "")
        return self._scales.resolve(exchange_symbol, first[0], first[1])


def _levels(levels: list[messages.PriceLevel], scales: SymbolScales) -> list[Level]:
    """Levels at the symbol's scales, through its text caches (inlined lookups: this runs for every level)."""
    prices, sizes = scales.prices.values, scales.sizes.values
    parse_price, parse_size = scales.prices.parse, scales.sizes.parse
    return [
        (prices[price] if price in prices else parse_price(price), sizes[size] if size in sizes else parse_size(size))
        for price, size in levels
    ]
