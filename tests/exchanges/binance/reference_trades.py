"""The Python trade mapping the native path replaced, kept as the oracle of the parity tests.

``ReferenceTradeParser._trade``/``_agg_trade`` are the Binance adapter's mapping as it was
before it moved to ``native/src/binance_trade.rs`` (scales through
:class:`SymbolScalesCache`, prices and sizes through its text caches), with the msgspec
decoding of a trade frame in front and :func:`encode` behind. Production code never imports
this module: the parity tests check that the native path gives the same bytes and errors.
"""

from __future__ import annotations

import msgspec

from platform_streams.exchanges.base import MalformedFrame
from platform_streams.exchanges.binance import messages
from platform_streams.exchanges.binance.instruments import EXCHANGE
from platform_streams.exchanges.binance.parser import NS_PER_MS, _symbol_or_unknown
from platform_streams.exchanges.instruments import InstrumentRegistry
from platform_streams.exchanges.symbol_scales import SymbolScalesCache
from platform_streams.schemas import Side, Trade, encode
from platform_streams.schemas.fixed_point import FixedPointError

_shape_decoder = msgspec.json.Decoder(messages.AnyFrame)
_combined_decoder = msgspec.json.Decoder(messages.StreamFrame[messages.StreamEvent])
_raw_decoder = msgspec.json.Decoder(messages.StreamEvent)
_DECODE_ERRORS = (msgspec.DecodeError, msgspec.ValidationError, FixedPointError)
_SELL, _BUY = Side.SELL, Side.BUY


class ReferenceTradeParser:
    """Trade and aggTrade frames → ``(key, encoded Trade)`` the way the Python parser did it."""

    def __init__(self, instruments: InstrumentRegistry | None = None) -> None:
        self._scales = SymbolScalesCache(EXCHANGE, instruments, _symbol_or_unknown)
        self._resolved = self._scales.resolved

    def parse(self, frame: bytes, receive_ts_ns: int) -> tuple[str, bytes] | None:
        """None for a well-formed frame that is not a trade; raises ``MalformedFrame``/``UnknownInstrument``
        like the parser, and ``ValueError`` from :func:`encode` for integers past 64 bits."""
        try:
            combined = _shape_decoder.decode(frame).stream is not None  # as the parser tells, whatever the layout
            event = _combined_decoder.decode(frame).data if combined else _raw_decoder.decode(frame)
            if type(event) is messages.Trade:
                trade = self._trade(event, receive_ts_ns)
            elif type(event) is messages.AggTrade:
                trade = self._agg_trade(event, receive_ts_ns)
            else:
                return None
        except _DECODE_ERRORS as exc:
            raise MalformedFrame(EXCHANGE, str(exc), frame) from None
        return trade.key, encode(trade)

    def _trade(self, trade: messages.Trade, receive_ts_ns: int) -> Trade:
        scales = self._resolved.get(trade.symbol) or self._scales.resolve(trade.symbol, trade.price, trade.quantity)
        prices, sizes = scales.prices, scales.sizes
        price = prices.values.get(trade.price)
        if price is None:
            price = prices.parse(trade.price)
        size = sizes.values.get(trade.quantity)
        if size is None:
            size = sizes.parse(trade.quantity)
        return Trade(
            EXCHANGE,
            scales.symbol,
            trade.trade_time * NS_PER_MS,
            receive_ts_ns,
            trade.trade_id,
            str(trade.trade_id),
            _SELL if trade.buyer_is_maker else _BUY,
            price,
            size,
            scales.price_scale,
            scales.size_scale,
        )

    def _agg_trade(self, trade: messages.AggTrade, receive_ts_ns: int) -> Trade:
        scales = self._resolved.get(trade.symbol) or self._scales.resolve(trade.symbol, trade.price, trade.quantity)
        prices, sizes = scales.prices, scales.sizes
        return Trade(
            EXCHANGE,
            scales.symbol,
            trade.trade_time * NS_PER_MS,
            receive_ts_ns,
            trade.agg_trade_id,
            str(trade.agg_trade_id),
            _SELL if trade.buyer_is_maker else _BUY,
            prices.values[trade.price] if trade.price in prices.values else prices.parse(trade.price),
            sizes.values[trade.quantity] if trade.quantity in sizes.values else sizes.parse(trade.quantity),
            scales.price_scale,
            scales.size_scale,
        )
