"""Instruments as the platform sees them, the symbol normalisation rules, and the per-exchange registry.

A normalised symbol is ``BASE/QUOTE`` in the platform's asset codes (``BTC/USDT``;
Kraken's ``XBT`` is ``BTC``). Derivatives follow ccxt's unified form so that they never
collide with spot: ``BASE/QUOTE:SETTLE`` for perpetual swaps, ``BASE/QUOTE:SETTLE-YYMMDD``
for futures and ``BASE/QUOTE:SETTLE-YYMMDD-STRIKE-C|P`` for options.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from platform_streams.schemas.events import Instrument as Instrument  # the canonical event, re-exported
from platform_streams.schemas.events import InstrumentKind as InstrumentKind
from platform_streams.schemas.fixed_point import normalise, parse_at_scale, parse_decimal

ASSET_ALIASES: dict[str, str] = {"XBT": "BTC", "XDG": "DOGE"}
"""Exchange asset codes that differ from the platform's (Kraken's), mapped to the platform's."""


class InstrumentLookupError(KeyError):
    """No instrument of this exchange has that name."""


def normalise_asset(code: str) -> str:
    """An exchange asset code in the platform's spelling (upper case, aliases resolved)."""
    upper = code.upper()
    return ASSET_ALIASES.get(upper, upper)


def spot_symbol(base: str, quote: str) -> str:
    """``("xbt", "usd")`` → ``"BTC/USD"``."""
    return f"{normalise_asset(base)}/{normalise_asset(quote)}"


def derivative_symbol(base: str, quote: str, settle: str, expiry_and_terms: str = "") -> str:
    """``("BTC", "USD", "BTC", "220527")`` → ``"BTC/USD:BTC-220527"``; no terms for a perpetual."""
    suffix = f"-{expiry_and_terms}" if expiry_and_terms else ""
    return f"{spot_symbol(base, quote)}:{normalise_asset(settle)}{suffix}"


def split_symbol(symbol: str) -> tuple[str, str]:
    """``"BTC/USDT"`` → ``("BTC", "USDT")`` (the part after ``:`` of a derivative is dropped)."""
    pair = symbol.partition(":")[0]
    base, slash, quote = pair.partition("/")
    if not slash or not base or not quote:
        raise ValueError(f"not a normalised BASE/QUOTE symbol: {symbol!r}")
    return base, quote


class InstrumentRegistry:
    """One exchange's instruments, found by exchange symbol (or alias) or by normalised symbol."""

    def __init__(self, exchange: str, instruments: Iterable[Instrument] = ()) -> None:
        self.exchange = exchange
        self._by_exchange_symbol: dict[str, Instrument] = {}
        self._by_symbol: dict[str, Instrument] = {}
        for instrument in instruments:
            self.add(instrument)

    def add(self, instrument: Instrument) -> None:
        """Add or replace an instrument (a newer metadata load replaces the older entry)."""
        if instrument.exchange != self.exchange:
            raise ValueError(f"{instrument.exchange} instrument {instrument.symbol} added to the {self.exchange} registry")
        for name in (instrument.exchange_symbol, *instrument.aliases):
            self._by_exchange_symbol[name] = instrument
        self._by_symbol[instrument.symbol] = instrument

    def get(self, exchange_symbol: str) -> Instrument | None:
        """The instrument the exchange calls ``exchange_symbol``, or None."""
        return self._by_exchange_symbol.get(exchange_symbol)

    def __getitem__(self, exchange_symbol: str) -> Instrument:
        instrument = self._by_exchange_symbol.get(exchange_symbol)
        if instrument is None:
            raise InstrumentLookupError(f"{self.exchange} has no instrument {exchange_symbol!r}")
        return instrument

    def get_symbol(self, symbol: str) -> Instrument | None:
        """The instrument with normalised symbol ``symbol``, or None."""
        return self._by_symbol.get(symbol)

    def by_symbol(self, symbol: str) -> Instrument:
        """The instrument with normalised symbol ``symbol`` (``"BTC/USDT"``)."""
        instrument = self._by_symbol.get(symbol)
        if instrument is None:
            raise InstrumentLookupError(f"{self.exchange} has no instrument {symbol!r}")
        return instrument

    def __contains__(self, exchange_symbol: object) -> bool:
        return exchange_symbol in self._by_exchange_symbol

    def __iter__(self) -> Iterator[Instrument]:
        return iter(self._by_symbol.values())

    def __len__(self) -> int:
        return len(self._by_symbol)


def step_from_text(text: str) -> tuple[int, int]:
    """An increment as published (``"0.01000000"``) → ``(1, 2)``: its mantissa at the fewest decimals that hold it.

    A zero increment (a disabled filter) gives ``(0, 0)``."""
    mantissa, scale = parse_decimal(text)
    return normalise(mantissa, scale)


def value_at_scale(text: str, scale: int) -> int:
    """Metadata text at ``scale``, exactly; empty text (not published) is 0."""
    return parse_at_scale(text, scale) if text else 0


def value_and_scale(text: str) -> tuple[int, int]:
    """Metadata text as ``(mantissa, scale)`` without trailing zeros; empty text is ``(0, 0)``."""
    return step_from_text(text) if text else (0, 0)


def text_scale_of(text: str) -> int:
    """Decimals needed to write metadata text exactly (``"0.00100"`` → 3); empty text needs 0."""
    return step_from_text(text)[1] if text else 0
