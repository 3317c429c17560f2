"""Kraken WebSocket v2 frames → canonical events.

Channels: ``book`` → :class:`BookSnapshot` (``type`` ``snapshot``) or :class:`BookDelta`
(``update``), each with its CRC32 ``checksum`` and the decimals of Kraken's number text in
``ParsedFrame.checksum`` (v2 checksums snapshots too); ``trade`` → :class:`Trade` per entry
(``sequence`` = ``trade_id``, side = the taker's; a snapshot's trades are real trades with
their ids, so they dedupe); ``ticker`` → :class:`BestBidOffer`. The subscribe acknowledgement
of a book states its depth: it parses to a control frame with that
:class:`BookSubscription` in ``ParsedFrame.subscriptions`` (the book rule truncates to it).
Books and tickers carry no sequence: the receive-time conventions of
:mod:`platform_streams.exchanges.base` apply, ``exchange_ts_ns`` being the message's
``timestamp`` where sent. ``heartbeat``, ``status``, ``pong`` and successful
acknowledgements are control frames; a refused request raises :class:`ExchangeErrorFrame`.

Numbers are bare JSON numbers: decoded as their exact text (``float_hook=str``), then to
mantissas at the instrument's scale, never through a float; a number that is not plain
decimal text (``1e-05``) is a malformed frame. Kraken sends one book per message (``data``
of one entry, as every capture has); another count is refused as malformed. Without
AssetPairs metadata a pair is parsed at the decimals of its text (fixed per pair, as on v1).
"""

from __future__ import annotations

import msgspec

from platform_streams.books.sync import BookChecksum
from platform_streams.exchanges.base import (
    ExchangeErrorFrame,
    FrameError,
    MalformedFrame,
    MarketEvent,
    ParsedFrame,
    UnknownChannel,
)
from platform_streams.exchanges.decimal_text import text_scale
from platform_streams.exchanges.kraken_v2 import messages
from platform_streams.exchanges.kraken_v2.endpoints import BOOK_DEPTHS
from platform_streams.exchanges.kraken_v2.instruments import EXCHANGE
from platform_streams.exchanges.kraken_websocket import KrakenWebSocketParser
from platform_streams.exchanges.symbol_scales import SymbolScales
from platform_streams.exchanges.timestamps import TimestampError, iso8601_to_ns
from platform_streams.schemas.events import BestBidOffer, BookDelta, BookSnapshot, Level, Side, Trade
from platform_streams.schemas.fixed_point import FixedPointError

CHANNELS = frozenset({"book", "trade", "ticker", "heartbeat", "status"})

_channel_decoder = msgspec.json.Decoder(messages.ChannelMessage, float_hook=str)
_reply_decoder = msgspec.json.Decoder(messages.MethodReply)
_shape_decoder = msgspec.json.Decoder(messages.AnyMessage)

_DECODE_ERRORS = (msgspec.DecodeError, msgspec.ValidationError, FixedPointError, TimestampError)
_SIDES = {"buy": Side.BUY, "sell": Side.SELL}
_HEARTBEAT = ParsedFrame([], None, "heartbeat")
_STATUS = ParsedFrame([], None, "status")
_PONG = ParsedFrame([], None, "pong")


def _number_text(value: object) -> str:
    """A number decoded as its text (floats) or as an int (integer literals); anything else is malformed."""
    if type(value) is str:
        return value
    if type(value) is int:
        return str(value)
    raise MalformedFrame(EXCHANGE, f"{value!r} is not a JSON number")


class KrakenV2Parser(KrakenWebSocketParser):
    """Parses Kraken v2 frames; ``instruments`` (from AssetPairs, named as v2 names them) gives the scales."""

    exchange = EXCHANGE

    def parse_frame(self, frame: bytes, receive_ts_ns: int) -> ParsedFrame:
        """Events of one frame, with a book message's checksum; raises ``FrameError`` subclasses."""
        try:
            try:
                message = _channel_decoder.decode(frame)
            except msgspec.ValidationError as exc:
                return self._not_channel_data(frame, exc)
            kind = type(message)
            if kind is messages.BookMessage:
                return self._book(message, receive_ts_ns)
            if kind is messages.TradeMessage:
                return ParsedFrame(self._trades(message.data, receive_ts_ns))
            if kind is messages.TickerMessage:
                return ParsedFrame([self._ticker(ticker, receive_ts_ns) for ticker in message.data])
            return _HEARTBEAT if kind is messages.HeartbeatMessage else _STATUS
        except _DECODE_ERRORS as exc:
            raise MalformedFrame(EXCHANGE, str(exc), frame) from None
        except FrameError as exc:
            raise exc if exc.frame else type(exc)(EXCHANGE, exc.reason, frame) from None

    # -- replies and frames of other shapes ------------------------------------------------

    def _not_channel_data(self, frame: bytes, error: msgspec.ValidationError) -> ParsedFrame:
        """A reply to a request, a channel this adapter does not read, or a channel message of the wrong shape."""
        shape = _shape_decoder.decode(frame)
        if shape.method is not None:
            return self._reply(_reply_decoder.decode(frame), frame)
        if shape.channel is None:
            raise MalformedFrame(EXCHANGE, "neither a channel message nor a reply to a request")
        if shape.channel in CHANNELS:
            raise MalformedFrame(EXCHANGE, f"{shape.channel} message: {error}")
        raise UnknownChannel(EXCHANGE, f"channel {shape.channel!r} is not one this adapter parses")

    def _reply(self, reply: messages.MethodReply, frame: bytes) -> ParsedFrame:
        if reply.method == "pong":
            return _PONG
        if reply.method not in ("subscribe", "unsubscribe"):
            raise UnknownChannel(EXCHANGE, f"reply to method {reply.method!r} is not one this adapter knows")
        if not reply.success:
            about = reply.symbol or (reply.result.symbol if reply.result is not None else "")
            raise ExchangeErrorFrame(EXCHANGE, f"{reply.method} {about} refused: {reply.error}", frame)
        result = reply.result
        if reply.method == "unsubscribe" or result is None or result.channel != "book":
            return ParsedFrame([], None, f"{reply.method}d")
        if result.depth not in BOOK_DEPTHS:
            raise MalformedFrame(EXCHANGE, f"book subscription of depth {result.depth}; Kraken offers {BOOK_DEPTHS}")
        symbol = self._scales.resolve(result.symbol).symbol
        return ParsedFrame([], None, "subscribed", self._book_subscription(symbol, result.depth))

    # -- channel data → canonical events ----------------------------------------------------

    def _book(self, message: messages.BookMessage, receive_ts_ns: int) -> ParsedFrame:
        if len(message.data) != 1:
            raise MalformedFrame(EXCHANGE, f"book message with {len(message.data)} entries; Kraken sends one")
        data = message.data[0]
        price_decimals, size_decimals = _text_decimals(data.bids, data.asks)
        scales = self._scales.resolved.get(data.symbol)
        if scales is None:
            first = data.bids[0] if data.bids else data.asks[0] if data.asks else None
            price_text, size_text = (_number_text(first.price), _number_text(first.qty)) if first else ("", "")
            scales = self._scales.resolve(data.symbol, price_text, size_text)
        exchange_ts_ns = iso8601_to_ns(data.timestamp) if data.timestamp else receive_ts_ns
        bids, asks = _levels(data.bids, scales), _levels(data.asks, scales)
        price_scale, size_scale = scales.price_scale, scales.size_scale
        event: BookSnapshot | BookDelta
        if message.type == "update":
            event = BookDelta(
                EXCHANGE, scales.symbol, exchange_ts_ns, receive_ts_ns, receive_ts_ns, receive_ts_ns, 0, bids, asks,
                price_scale, size_scale,
            )  # fmt: skip
        elif message.type == "snapshot":
            event = BookSnapshot(
                EXCHANGE, scales.symbol, exchange_ts_ns, receive_ts_ns, receive_ts_ns, bids, asks, price_scale, size_scale
            )
        else:
            raise MalformedFrame(EXCHANGE, f"book message of type {message.type!r}; expected snapshot or update")
        checksum = BookChecksum(
            data.checksum,
            price_scale if price_decimals is None else price_decimals,
            size_scale if size_decimals is None else size_decimals,
        )
        return ParsedFrame([event], checksum)

    def _trades(self, trades: list[messages.TradeData], receive_ts_ns: int) -> list[MarketEvent]:
        events: list[MarketEvent] = []
        for trade in trades:
            side = _SIDES.get(trade.side)
            if side is None:
                raise MalformedFrame(EXCHANGE, f"trade side {trade.side!r} is neither buy nor sell")
            price_text, size_text = _number_text(trade.price), _number_text(trade.qty)
            scales = self._scales.resolved.get(trade.symbol) or self._scales.resolve(trade.symbol, price_text, size_text)
            events.append(
                Trade(
                    EXCHANGE,
                    scales.symbol,
                    iso8601_to_ns(trade.timestamp),
                    receive_ts_ns,
                    trade.trade_id,
                    str(trade.trade_id),
                    side,
                    scales.prices(price_text),
                    scales.sizes(size_text),
                    scales.price_scale,
                    scales.size_scale,
                )
            )
        return events

    def _ticker(self, ticker: messages.TickerData, receive_ts_ns: int) -> BestBidOffer:
        bid, bid_size = _number_text(ticker.bid), _number_text(ticker.bid_qty)
        ask, ask_size = _number_text(ticker.ask), _number_text(ticker.ask_qty)
        scales = self._scales.resolved.get(ticker.symbol) or self._scales.resolve(ticker.symbol, bid, bid_size)
        return BestBidOffer(
            EXCHANGE,
            scales.symbol,
            iso8601_to_ns(ticker.timestamp) if ticker.timestamp else receive_ts_ns,
            receive_ts_ns,
            receive_ts_ns,
            scales.prices(bid),
            scales.sizes(bid_size),
            scales.prices(ask),
            scales.sizes(ask_size),
            scales.price_scale,
            scales.size_scale,
        )


def _levels(levels: list[messages.PriceLevel], scales: SymbolScales) -> list[Level]:
    """Levels at the symbol's scales, through its text caches (inlined lookups: this runs for every level)."""
    prices, sizes = scales.prices, scales.sizes
    known_prices, known_sizes = prices.values, sizes.values
    parsed: list[Level] = []
    for level in levels:
        price, size = level.price, level.qty
        if type(price) is not str:
            price = _number_text(price)
        if type(size) is not str:
            size = _number_text(size)
        parsed.append(
            (
                known_prices[price] if price in known_prices else prices.parse(price),
                known_sizes[size] if size in known_sizes else sizes.parse(size),
            )
        )
    return parsed


def _text_decimals(bids: list[messages.PriceLevel], asks: list[messages.PriceLevel]) -> tuple[int | None, int | None]:
    """The decimals Kraken wrote prices and quantities with in this message (fixed per pair; the most
    any level has, so an integer literal such as a removal's ``0`` cannot lower them); None without levels."""
    price_decimals = size_decimals = None
    for level in (*bids, *asks):
        price, size = level.price, level.qty
        price_scale = text_scale(price) if type(price) is str else 0
        size_scale = text_scale(size) if type(size) is str else 0
        if price_decimals is None or price_scale > price_decimals:
            price_decimals = price_scale
        if size_decimals is None or size_scale > size_decimals:
            size_decimals = size_scale
    return price_decimals, size_decimals
