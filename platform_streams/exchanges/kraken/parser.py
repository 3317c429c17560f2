"""Kraken WebSocket v1 frames → canonical events.

Channels: ``book-<depth>`` → :class:`BookSnapshot` (``as``/``bs``) or :class:`BookDelta`
(``a``/``b``, both parts of a two-part update merged into one delta) with the update's
checksum ``c`` and the decimals of Kraken's text in ``ParsedFrame.checksum``, and the
subscribed depth of the channel name in ``ParsedFrame.subscriptions``;
``trade`` → :class:`Trade` per entry (Kraken v1 has no trade id: ``trade_id`` is
``<time>-<position in frame>``, ``sequence`` 0); ``ticker`` and ``spread`` →
:class:`BestBidOffer`; ``ohlc-<minutes>`` → :class:`Candle` (Kraken pushes the running
interval, so ``closed`` is False). Book, ticker and spread have no sequence and ticker
no time: the receive-time conventions of :mod:`platform_streams.exchanges.base` apply; a
book event's ``exchange_ts_ns`` is its newest level time. ``heartbeat``,
``systemStatus``, ``subscriptionStatus`` and ``pong`` are control frames; errors raise
:class:`ExchangeErrorFrame`. Without AssetPairs metadata a pair is parsed at the
decimals of its text (fixed per pair on v1).
"""

from __future__ import annotations

from functools import partial

import msgspec
from tradeplat_native import KrakenBookUpdates, KrakenTopOfBook, KrakenTradeParser

from platform_streams.books.sync import BookChecksum
from platform_streams.exchanges.base import (
    BookFastPath,
    BookSubscription,
    ExchangeErrorFrame,
    FrameError,
    MalformedFrame,
    MarketEvent,
    ParsedFrame,
    TradeFastPath,
    UnknownChannel,
)
from platform_streams.exchanges.decimal_text import mantissa_at_scale, text_scale
from platform_streams.exchanges.instruments import InstrumentRegistry
from platform_streams.exchanges.kraken import messages
from platform_streams.exchanges.kraken.endpoints import BOOK_DEPTHS
from platform_streams.exchanges.kraken.instruments import EXCHANGE
from platform_streams.exchanges.kraken_websocket import KrakenWebSocketParser
from platform_streams.exchanges.symbol_scales import SymbolScales, native_symbol_entry
from platform_streams.exchanges.timestamps import TimestampError, seconds_text_to_ns
from platform_streams.schemas.events import BestBidOffer, BookDelta, BookSnapshot, Candle, Level, Side, Trade
from platform_streams.schemas.fixed_point import FixedPointError

OHLC_INTERVAL_MINUTES = frozenset({1, 5, 15, 30, 60, 240, 1440, 10080, 21600})
CONTROL_EVENTS = {"heartbeat": "heartbeat", "systemStatus": "status", "pong": "pong"}

_frame_decoder = msgspec.json.Decoder(messages.Frame)
_book_decoder = msgspec.json.Decoder(messages.BookPayload)
_trades_decoder = msgspec.json.Decoder(list[messages.TradeEntry])
_ticker_decoder = msgspec.json.Decoder(messages.TickerPayload)
_spread_decoder = msgspec.json.Decoder(messages.SpreadPayload)
_ohlc_decoder = msgspec.json.Decoder(messages.OhlcPayload)
_text_decoder = msgspec.json.Decoder(str)

_DECODE_ERRORS = (msgspec.DecodeError, msgspec.ValidationError, FixedPointError, TimestampError)
_SIDES = {"b": Side.BUY, "s": Side.SELL}


class KrakenParser(KrakenWebSocketParser):
    """Parses Kraken v1 frames; ``instruments`` (from AssetPairs) gives the scales. Trades, tickers
    and book updates of live books have native fast paths (:meth:`trade_fast_path`,
    :meth:`top_of_book_fast_path`, :meth:`book_fast_path`)."""

    exchange = EXCHANGE

    def __init__(self, instruments: InstrumentRegistry | None = None, require_metadata: bool = False) -> None:
        super().__init__(instruments, require_metadata)
        resolve = partial(native_symbol_entry, self._scales)
        self._book_updates = KrakenBookUpdates(EXCHANGE, resolve)
        self._native_trades = KrakenTradeParser(EXCHANGE, resolve)
        self._native_tops = KrakenTopOfBook(EXCHANGE, resolve)

    def trade_fast_path(self) -> TradeFastPath | None:
        """Trade frames (``native/src/kraken_trades.rs``): every trade of the frame, or None."""
        return self._native_trades.parse

    def top_of_book_fast_path(self) -> TradeFastPath | None:
        """Ticker frames (``native/src/kraken_top_of_book.rs``); None for any it cannot map exactly."""
        return self._native_tops.parse

    def book_fast_path(self) -> BookFastPath:
        return self._book_updates

    def parse_frame(self, frame: bytes, receive_ts_ns: int) -> ParsedFrame:
        """Events of one frame, with a book update's checksum; raises ``FrameError`` subclasses."""
        try:
            decoded = _frame_decoder.decode(frame)
            if isinstance(decoded, messages.EventMessage):
                return _event(decoded, frame)
            return self._data(decoded, receive_ts_ns)
        except _DECODE_ERRORS as exc:
            raise MalformedFrame(EXCHANGE, str(exc), frame) from None
        except FrameError as exc:
            raise exc if exc.frame else type(exc)(EXCHANGE, exc.reason, frame) from None

    def _data(self, parts: list[msgspec.Raw], receive_ts_ns: int) -> ParsedFrame:
        if len(parts) not in (4, 5):
            raise MalformedFrame(EXCHANGE, f"data array of {len(parts)} elements; expected 4 or 5")
        channel = _text_decoder.decode(parts[-2])
        pair = _text_decoder.decode(parts[-1])
        payloads = parts[1:-2]
        if channel.startswith("book-"):
            parsed = self._book(pair, payloads, receive_ts_ns)
            parsed.subscriptions = self._subscription(parsed.events[0].symbol, channel)
            return parsed
        if len(payloads) != 1:
            raise MalformedFrame(EXCHANGE, f"{channel} frame with {len(payloads)} payloads")
        payload = payloads[0]
        if channel == "trade":
            return ParsedFrame(self._trades(pair, _trades_decoder.decode(payload), receive_ts_ns))
        if channel == "ticker":
            return ParsedFrame([self._ticker(pair, _ticker_decoder.decode(payload), receive_ts_ns)])
        if channel == "spread":
            return ParsedFrame([self._spread(pair, _spread_decoder.decode(payload), receive_ts_ns)])
        if channel.startswith("ohlc-"):
            return ParsedFrame([self._candle(pair, channel, _ohlc_decoder.decode(payload), receive_ts_ns)])
        raise UnknownChannel(EXCHANGE, f"channel {channel!r} is not one this adapter parses")

    def _subscription(self, symbol: str, channel: str) -> tuple[BookSubscription, ...]:
        """The book subscription a ``book-<depth>`` frame belongs to."""
        depth_text = channel[5:]
        depth = int(depth_text) if depth_text.isdigit() else 0
        if depth not in BOOK_DEPTHS:
            raise UnknownChannel(EXCHANGE, f"book depth {depth_text!r} is not one Kraken documents")
        return self._book_subscription(symbol, depth)

    def _book(self, pair: str, payloads: list[msgspec.Raw], receive_ts_ns: int) -> ParsedFrame:
        parts = [_book_decoder.decode(payload) for payload in payloads]
        first = parts[0]
        if first.snapshot_asks is not None or first.snapshot_bids is not None:
            if len(parts) != 1:
                raise MalformedFrame(EXCHANGE, "book snapshot in more than one part")
            return ParsedFrame([self._snapshot(pair, first.snapshot_bids or [], first.snapshot_asks or [], receive_ts_ns)])
        asks = [level for part in parts for level in part.asks or ()]
        bids = [level for part in parts for level in part.bids or ()]
        checksums = [part.checksum for part in parts if part.checksum is not None]
        if not asks and not bids:
            raise MalformedFrame(EXCHANGE, "book frame with neither a snapshot nor updated levels")
        if len(checksums) > 1 or (checksums and not checksums[0].isdigit()):
            raise MalformedFrame(EXCHANGE, f"book update checksum {checksums!r} is not one unsigned integer")
        first_level = bids[0] if bids else asks[0]
        delta = self._delta(pair, bids, asks, first_level, receive_ts_ns)
        checksum = (
            BookChecksum(int(checksums[0]), text_scale(first_level.price), text_scale(first_level.volume)) if checksums else None
        )
        return ParsedFrame([delta], checksum)

    def _snapshot(
        self, pair: str, bids: list[messages.BookLevel], asks: list[messages.BookLevel], receive_ts_ns: int
    ) -> BookSnapshot:
        first = bids[0] if bids else asks[0] if asks else None
        scales = self._scales.resolve(pair, first.price, first.volume) if first else self._scales.resolve(pair)
        price_scale, size_scale = scales.price_scale, scales.size_scale
        return BookSnapshot(
            EXCHANGE,
            scales.symbol,
            _newest_time(bids, asks, receive_ts_ns),
            receive_ts_ns,
            receive_ts_ns,
            _levels(bids, price_scale, size_scale),
            _levels(asks, price_scale, size_scale),
            price_scale,
            size_scale,
        )

    def _delta(
        self,
        pair: str,
        bids: list[messages.BookLevel],
        asks: list[messages.BookLevel],
        first: messages.BookLevel,
        receive_ts_ns: int,
    ) -> BookDelta:
        scales = self._scales.resolve(pair, first.price, first.volume)
        price_scale, size_scale = scales.price_scale, scales.size_scale
        return BookDelta(
            EXCHANGE,
            scales.symbol,
            _newest_time(bids, asks, receive_ts_ns),
            receive_ts_ns,
            receive_ts_ns,
            receive_ts_ns,
            0,
            _levels(bids, price_scale, size_scale),
            _levels(asks, price_scale, size_scale),
            price_scale,
            size_scale,
        )

    def _trades(self, pair: str, entries: list[messages.TradeEntry], receive_ts_ns: int) -> list[MarketEvent]:
        if not entries:
            raise MalformedFrame(EXCHANGE, "trade frame with no trades")
        scales = self._scales.resolve(pair, entries[0].price, entries[0].volume)
        events: list[MarketEvent] = []
        for position, entry in enumerate(entries):
            side = _SIDES.get(entry.side)
            if side is None:
                raise MalformedFrame(EXCHANGE, f"trade side {entry.side!r} is neither b nor s")
            events.append(
                Trade(
                    EXCHANGE,
                    scales.symbol,
                    seconds_text_to_ns(entry.time),
                    receive_ts_ns,
                    0,
                    f"{entry.time}-{position}",
                    side,
                    mantissa_at_scale(entry.price, scales.price_scale),
                    mantissa_at_scale(entry.volume, scales.size_scale),
                    scales.price_scale,
                    scales.size_scale,
                )
            )
        return events

    def _ticker(self, pair: str, ticker: messages.TickerPayload, receive_ts_ns: int) -> BestBidOffer:
        scales = self._scales.resolve(pair, ticker.bid[0], ticker.bid[2])
        return _bbo(scales, receive_ts_ns, receive_ts_ns, ticker.bid[0], ticker.bid[2], ticker.ask[0], ticker.ask[2])

    def _spread(self, pair: str, spread: messages.SpreadPayload, receive_ts_ns: int) -> BestBidOffer:
        scales = self._scales.resolve(pair, spread.bid, spread.bid_volume)
        exchange_ts_ns = seconds_text_to_ns(spread.timestamp)
        return _bbo(scales, exchange_ts_ns, receive_ts_ns, spread.bid, spread.bid_volume, spread.ask, spread.ask_volume)

    def _candle(self, pair: str, channel: str, ohlc: messages.OhlcPayload, receive_ts_ns: int) -> Candle:
        minutes = channel[5:]
        if not minutes.isdigit() or int(minutes) not in OHLC_INTERVAL_MINUTES:
            raise UnknownChannel(EXCHANGE, f"ohlc interval {minutes!r} is not one Kraken documents")
        interval_s = int(minutes) * 60
        scales = self._scales.resolve(pair, ohlc.open, ohlc.volume)
        price_scale, size_scale = scales.price_scale, scales.size_scale
        return Candle(
            EXCHANGE,
            scales.symbol,
            seconds_text_to_ns(ohlc.time),
            receive_ts_ns,
            receive_ts_ns,
            interval_s,
            seconds_text_to_ns(ohlc.end_time) - interval_s * 1_000_000_000,
            mantissa_at_scale(ohlc.open, price_scale),
            mantissa_at_scale(ohlc.high, price_scale),
            mantissa_at_scale(ohlc.low, price_scale),
            mantissa_at_scale(ohlc.close, price_scale),
            mantissa_at_scale(ohlc.volume, size_scale),
            ohlc.count,
            False,
            price_scale,
            size_scale,
        )


def _event(message: messages.EventMessage, frame: bytes) -> ParsedFrame:
    control = CONTROL_EVENTS.get(message.event)
    if control is not None:
        return ParsedFrame([], None, control)
    if message.event == "subscriptionStatus":
        if message.status == "error":
            raise ExchangeErrorFrame(EXCHANGE, f"subscription error for {message.pair}: {message.error_message}", frame)
        return ParsedFrame([], None, message.status or "subscriptionStatus")
    if message.event == "error":
        raise ExchangeErrorFrame(EXCHANGE, f"error: {message.error_message}", frame)
    raise UnknownChannel(EXCHANGE, f"event {message.event!r} is not one this adapter knows", frame)


def _bbo(
    scales: SymbolScales, exchange_ts_ns: int, receive_ts_ns: int, bid: str, bid_size: str, ask: str, ask_size: str
) -> BestBidOffer:
    price_scale, size_scale = scales.price_scale, scales.size_scale
    return BestBidOffer(
        EXCHANGE,
        scales.symbol,
        exchange_ts_ns,
        receive_ts_ns,
        receive_ts_ns,
        mantissa_at_scale(bid, price_scale),
        mantissa_at_scale(bid_size, size_scale),
        mantissa_at_scale(ask, price_scale),
        mantissa_at_scale(ask_size, size_scale),
        price_scale,
        size_scale,
    )


def _levels(levels: list[messages.BookLevel], price_scale: int, size_scale: int) -> list[Level]:
    return [(mantissa_at_scale(level.price, price_scale), mantissa_at_scale(level.volume, size_scale)) for level in levels]


def _newest_time(bids: list[messages.BookLevel], asks: list[messages.BookLevel], default: int) -> int:
    """The newest level time of a book event (every level's time is validated on the way)."""
    return max((seconds_text_to_ns(level.timestamp) for side in (bids, asks) for level in side), default=default)
