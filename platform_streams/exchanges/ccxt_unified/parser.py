"""Parses ``ccxt``-format raw frames (see :mod:`.messages`) into canonical events.

Numbers arrive as decimal text and are parsed at the instrument's scale, refusing
anything that would need rounding. A book frame is a whole (depth-limited) book as
ccxt keeps it, so it becomes a :class:`BookSnapshot` every time.
"""

from __future__ import annotations

import msgspec

from platform_streams.exchanges.base import ExchangeParser, MalformedFrame, ParsedFrame, UnknownInstrument
from platform_streams.exchanges.ccxt_unified.messages import UnifiedBook, UnifiedFrame, UnifiedTrade
from platform_streams.exchanges.instruments import Instrument, InstrumentRegistry
from platform_streams.schemas import BookSnapshot, Side, Trade
from platform_streams.schemas.fixed_point import FixedPointError, parse_at_scale

FORMAT_NAME = "ccxt"
_decoder = msgspec.json.Decoder(UnifiedFrame)
_SIDES = {"buy": Side.BUY, "sell": Side.SELL}


class CcxtUnifiedParser(ExchangeParser):
    """Parser of one ccxt-ingested exchange's frames."""

    def __init__(self, exchange: str, instruments: InstrumentRegistry) -> None:
        self.exchange = exchange
        self._instruments = instruments

    def _instrument(self, symbol: str) -> Instrument:
        instrument = self._instruments.get_symbol(symbol)
        if instrument is None:
            raise UnknownInstrument(self.exchange, f"no instrument {symbol!r} in ref.instrument")
        return instrument

    def venue_symbol(self, symbol: str) -> str:
        """ccxt's unified symbol is what ingestion subscribed by."""
        return self._instrument(symbol).exchange_symbol

    def parse_frame(self, frame: bytes, receive_ts_ns: int) -> ParsedFrame:
        try:
            message = _decoder.decode(frame)
            if isinstance(message, UnifiedTrade):
                return ParsedFrame([self._trade(message, receive_ts_ns)])
            return ParsedFrame([self._book(message, receive_ts_ns)])
        except (msgspec.DecodeError, msgspec.ValidationError, FixedPointError) as exc:
            raise MalformedFrame(self.exchange, str(exc), frame) from None

    def _trade(self, trade: UnifiedTrade, receive_ts_ns: int) -> Trade:
        instrument = self._instrument(trade.symbol)
        return Trade(
            self.exchange,
            instrument.symbol,
            trade.timestamp * 1_000_000,
            receive_ts_ns,
            int(trade.id) if trade.id.isdigit() else 0,
            trade.id,
            _SIDES.get(trade.side, Side.UNKNOWN),
            parse_at_scale(trade.price, instrument.price_scale),
            parse_at_scale(trade.amount, instrument.size_scale),
            instrument.price_scale,
            instrument.size_scale,
        )

    def _book(self, book: UnifiedBook, receive_ts_ns: int) -> BookSnapshot:
        instrument = self._instrument(book.symbol)
        price_scale, size_scale = instrument.price_scale, instrument.size_scale
        return BookSnapshot(
            self.exchange,
            instrument.symbol,
            book.timestamp * 1_000_000 or receive_ts_ns,
            receive_ts_ns,
            book.nonce or receive_ts_ns,
            [(parse_at_scale(p, price_scale), parse_at_scale(q, size_scale)) for p, q in book.bids],
            [(parse_at_scale(p, price_scale), parse_at_scale(q, size_scale)) for p, q in book.asks],
            price_scale,
            size_scale,
        )
