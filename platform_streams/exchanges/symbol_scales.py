"""Per exchange symbol: the normalised symbol and the scales its prices and sizes are parsed at.

From instrument metadata when the registry knows the symbol. Otherwise, on exchanges
whose number text has a fixed number of decimals per symbol (Binance always sends 8,
Kraken v1 a fixed number per pair), from the first price and size text seen for that
symbol; later text is rescaled exactly to those scales or refused. On exchanges whose
text is the shortest spelling (OKX, Coinbase) an unknown symbol raises
:class:`~platform_streams.exchanges.base.UnknownInstrument`: one frame's text says
nothing about the next one's scale.
"""

from __future__ import annotations

from collections.abc import Callable

from platform_streams.exchanges.base import UnknownInstrument
from platform_streams.exchanges.decimal_text import DecimalTextCache, text_scale
from platform_streams.exchanges.instruments import InstrumentRegistry


class SymbolScales:
    """Normalised symbol and scales of one exchange symbol, with the text caches of those scales
    (a plain slotted object: it is read on every message)."""

    __slots__ = ("exchange_symbol", "symbol", "price_scale", "size_scale", "from_metadata", "prices", "sizes")

    def __init__(self, exchange_symbol: str, symbol: str, price_scale: int, size_scale: int, from_metadata: bool) -> None:
        self.exchange_symbol = exchange_symbol
        self.symbol = symbol
        self.price_scale = price_scale
        self.size_scale = size_scale
        self.from_metadata = from_metadata
        self.prices = DecimalTextCache(price_scale)
        self.sizes = DecimalTextCache(size_scale)

    def __repr__(self) -> str:
        return f"SymbolScales({self.exchange_symbol!r} → {self.symbol!r}, price {self.price_scale}, size {self.size_scale})"


class SymbolScalesCache:
    """Resolves and remembers :class:`SymbolScales`; parsers read ``resolved`` directly on the hot path.

    ``symbol_from_text`` normalises an exchange symbol without metadata (None: metadata
    is required and unknown symbols raise)."""

    def __init__(
        self, exchange: str, instruments: InstrumentRegistry | None, symbol_from_text: Callable[[str], str] | None
    ) -> None:
        self.exchange = exchange
        self.instruments = instruments
        self.symbol_from_text = symbol_from_text
        self.resolved: dict[str, SymbolScales] = {}
        self._venue_symbols: dict[str, str] = {}  # normalised symbol → the exchange symbol it was resolved from
        self._text_caches: dict[int, DecimalTextCache] = {}

    def resolve(self, exchange_symbol: str, price_text: str = "", size_text: str = "") -> SymbolScales:
        """The scales of ``exchange_symbol``, using the given text only when there is no metadata."""
        found = self.resolved.get(exchange_symbol)
        if found is not None:
            return found
        instrument = self.instruments.get(exchange_symbol) if self.instruments is not None else None
        if instrument is not None:
            scales = SymbolScales(exchange_symbol, instrument.symbol, instrument.price_scale, instrument.size_scale, True)
        elif self.symbol_from_text is None:
            raise UnknownInstrument(self.exchange, f"no instrument metadata for {exchange_symbol!r}")
        else:
            symbol = self.symbol_from_text(exchange_symbol)
            scales = SymbolScales(exchange_symbol, symbol, text_scale(price_text), text_scale(size_text), False)
            if not price_text or not size_text:
                return scales  # no text to fix the scales from: use them for this frame only
        scales.prices = self._text_cache(scales.price_scale)
        scales.sizes = self._text_cache(scales.size_scale)
        self.resolved[exchange_symbol] = scales
        self._venue_symbols.setdefault(scales.symbol, exchange_symbol)
        return scales

    def venue_symbol(self, symbol: str) -> str:
        """The exchange's name of normalised ``symbol``: from the metadata, else the name it was
        resolved from; raises :class:`UnknownInstrument` for a symbol neither knows."""
        instrument = self.instruments.get_symbol(symbol) if self.instruments is not None else None
        if instrument is not None:
            return instrument.exchange_symbol
        exchange_symbol = self._venue_symbols.get(symbol)
        if exchange_symbol is None:
            raise UnknownInstrument(self.exchange, f"no exchange symbol known for {symbol!r}")
        return exchange_symbol

    def _text_cache(self, scale: int) -> DecimalTextCache:
        """One cache per scale, shared by every symbol at that scale (the same text has the same mantissa)."""
        cache = self._text_caches.get(scale)
        if cache is None:
            cache = self._text_caches[scale] = DecimalTextCache(scale)
        return cache


def native_symbol_entry(
    scales: SymbolScalesCache, exchange_symbol: str, price_text: str, size_text: str
) -> tuple[str, int, int, bool]:
    """What native fast paths ask once per exchange symbol: its normalised name and scales (by the
    rules of :class:`SymbolScalesCache`), and whether they hold for its later frames. Pass it bound
    with ``functools.partial`` (not a parser's method: the native object must not hold the parser)."""
    resolved = scales.resolve(exchange_symbol, price_text, size_text)
    return resolved.symbol, resolved.price_scale, resolved.size_scale, exchange_symbol in scales.resolved
