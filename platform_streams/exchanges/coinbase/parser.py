"""Coinbase Exchange ``ws-feed`` frames → canonical events.

``level2``: ``snapshot`` → :class:`BookSnapshot`, ``l2update`` → :class:`BookDelta`
(``buy`` changes are bids, ``sell`` asks); the feed has no sequence, so the receive-time
convention of :mod:`platform_streams.exchanges.base` applies. ``matches``: ``match`` and
``last_match`` → :class:`Trade` with ``sequence`` = trade_id and the taker's side (the
opposite of the maker ``side`` Coinbase sends). ``ticker`` → :class:`BestBidOffer`
(``sequence`` = the feed sequence; sizes 0 when the feed omits ``best_bid_size``/
``best_ask_size``, as the 2021 feed did). ``subscriptions`` and ``heartbeat`` are control
frames; ``error`` raises :class:`ExchangeErrorFrame`. Scales need the products metadata.
"""

from __future__ import annotations

import msgspec

from platform_streams.exchanges.base import (
    ExchangeErrorFrame,
    ExchangeParser,
    FrameError,
    MalformedFrame,
    ParsedFrame,
    UnknownChannel,
)
from platform_streams.exchanges.coinbase import messages
from platform_streams.exchanges.coinbase.instruments import EXCHANGE
from platform_streams.exchanges.decimal_text import mantissa_at_scale
from platform_streams.exchanges.instruments import InstrumentRegistry
from platform_streams.exchanges.symbol_scales import SymbolScalesCache
from platform_streams.exchanges.timestamps import TimestampError, iso8601_to_ns
from platform_streams.schemas.events import BestBidOffer, BookDelta, BookSnapshot, Level, Side, Trade
from platform_streams.schemas.fixed_point import FixedPointError

_message_decoder = msgspec.json.Decoder(messages.Message)
_type_decoder = msgspec.json.Decoder(messages.TypeOnly)

_DECODE_ERRORS = (msgspec.DecodeError, msgspec.ValidationError, FixedPointError, TimestampError)
_TAKER_SIDE = {"buy": Side.SELL, "sell": Side.BUY}
"""Coinbase's ``side`` is the maker order's; the taker (aggressor) is on the other side."""


class CoinbaseParser(ExchangeParser):
    """Parses Coinbase Exchange ``ws-feed`` frames at the scales of ``instruments``."""

    exchange = EXCHANGE

    def __init__(self, instruments: InstrumentRegistry) -> None:
        self._scales = SymbolScalesCache(EXCHANGE, instruments, None)

    def venue_symbol(self, symbol: str) -> str:
        return self._scales.venue_symbol(symbol)

    def parse_frame(self, frame: bytes, receive_ts_ns: int) -> ParsedFrame:
        """Events of one frame; raises ``FrameError`` subclasses."""
        try:
            message = _message_decoder.decode(frame)
            return self._message(message, receive_ts_ns, frame)
        except msgspec.ValidationError as exc:
            raise self._classify(frame, str(exc)) from None
        except _DECODE_ERRORS as exc:
            raise MalformedFrame(EXCHANGE, str(exc), frame) from None
        except FrameError as exc:
            raise exc if exc.frame else type(exc)(EXCHANGE, exc.reason, frame) from None

    def _message(self, message: messages.Message, receive_ts_ns: int, frame: bytes) -> ParsedFrame:
        if isinstance(message, messages.L2Update):
            return ParsedFrame([self._delta(message, receive_ts_ns)])
        if isinstance(message, messages.Match):
            return ParsedFrame([self._trade(message, receive_ts_ns)])
        if isinstance(message, messages.Ticker):
            return ParsedFrame([self._ticker(message, receive_ts_ns)])
        if isinstance(message, messages.Snapshot):
            return ParsedFrame([self._snapshot(message, receive_ts_ns)])
        if isinstance(message, messages.Error):
            raise ExchangeErrorFrame(EXCHANGE, f"{message.message}: {message.reason}", frame)
        return ParsedFrame([], None, "heartbeat" if isinstance(message, messages.Heartbeat) else "subscriptions")

    def _classify(self, frame: bytes, detail: str) -> FrameError:
        """A frame that failed validation: an unknown type, or a known type of the wrong shape."""
        try:
            kind = _type_decoder.decode(frame).type
        except (msgspec.DecodeError, msgspec.ValidationError):
            return MalformedFrame(EXCHANGE, f"no message type: {detail}", frame)
        if kind not in messages.KNOWN_TYPES:
            return UnknownChannel(EXCHANGE, f"message type {kind!r} is not one this adapter parses", frame)
        return MalformedFrame(EXCHANGE, detail, frame)

    def _snapshot(self, snapshot: messages.Snapshot, receive_ts_ns: int) -> BookSnapshot:
        scales = self._scales.resolve(snapshot.product_id)
        price_scale, size_scale = scales.price_scale, scales.size_scale
        return BookSnapshot(
            EXCHANGE,
            scales.symbol,
            receive_ts_ns,
            receive_ts_ns,
            receive_ts_ns,
            _levels(snapshot.bids, price_scale, size_scale),
            _levels(snapshot.asks, price_scale, size_scale),
            price_scale,
            size_scale,
        )

    def _delta(self, update: messages.L2Update, receive_ts_ns: int) -> BookDelta:
        scales = self._scales.resolve(update.product_id)
        price_scale, size_scale = scales.price_scale, scales.size_scale
        bids: list[Level] = []
        asks: list[Level] = []
        for change in update.changes:
            level = (mantissa_at_scale(change.price, price_scale), mantissa_at_scale(change.size, size_scale))
            if change.side == "buy":
                bids.append(level)
            elif change.side == "sell":
                asks.append(level)
            else:
                raise MalformedFrame(EXCHANGE, f"l2update side {change.side!r} is neither buy nor sell")
        return BookDelta(
            EXCHANGE,
            scales.symbol,
            iso8601_to_ns(update.time),
            receive_ts_ns,
            receive_ts_ns,
            receive_ts_ns,
            0,
            bids,
            asks,
            price_scale,
            size_scale,
        )

    def _trade(self, match: messages.Match, receive_ts_ns: int) -> Trade:
        scales = self._scales.resolve(match.product_id)
        side = _TAKER_SIDE.get(match.side)
        if side is None:
            raise MalformedFrame(EXCHANGE, f"match side {match.side!r} is neither buy nor sell")
        return Trade(
            EXCHANGE,
            scales.symbol,
            iso8601_to_ns(match.time),
            receive_ts_ns,
            match.trade_id,
            str(match.trade_id),
            side,
            mantissa_at_scale(match.price, scales.price_scale),
            mantissa_at_scale(match.size, scales.size_scale),
            scales.price_scale,
            scales.size_scale,
        )

    def _ticker(self, ticker: messages.Ticker, receive_ts_ns: int) -> BestBidOffer:
        scales = self._scales.resolve(ticker.product_id)
        price_scale, size_scale = scales.price_scale, scales.size_scale
        return BestBidOffer(
            EXCHANGE,
            scales.symbol,
            iso8601_to_ns(ticker.time) if ticker.time else receive_ts_ns,
            receive_ts_ns,
            ticker.sequence,
            _optional(ticker.best_bid, price_scale),
            _optional(ticker.best_bid_size, size_scale),
            _optional(ticker.best_ask, price_scale),
            _optional(ticker.best_ask_size, size_scale),
            price_scale,
            size_scale,
        )


def _levels(levels: list[messages.PriceLevel], price_scale: int, size_scale: int) -> list[Level]:
    return [(mantissa_at_scale(price, price_scale), mantissa_at_scale(size, size_scale)) for price, size in levels]


def _optional(text: str, scale: int) -> int:
    return mantissa_at_scale(text, scale) if text else 0
