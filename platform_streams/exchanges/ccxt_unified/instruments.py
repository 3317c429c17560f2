"""ccxt markets into :class:`Instrument`s (scales from ccxt's precision: tick size or decimal places)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from platform_streams.exchanges.instruments import Instrument, InstrumentKind, step_from_text

TICK_SIZE_MODE = 4  # ccxt.base.decimal_to_precision.TICK_SIZE
_KINDS = {
    "spot": InstrumentKind.SPOT,
    "swap": InstrumentKind.SWAP,
    "future": InstrumentKind.FUTURE,
    "option": InstrumentKind.OPTION,
}


class UnusableMarket(ValueError):
    """A ccxt market without the precision the platform needs to parse its prices exactly."""


def _step(value: Any, precision_mode: int, what: str, symbol: str) -> tuple[int, int]:
    """ccxt precision → (mantissa, scale) of the increment; decimal places become 10^-places."""
    if value is None:
        raise UnusableMarket(f"{symbol}: ccxt gives no {what} precision")
    if precision_mode == TICK_SIZE_MODE:
        return step_from_text(format(Decimal(repr(value)), "f"))  # shortest round-trip text of ccxt's float
    places = int(value)
    return 1, places


def instrument_from_market(exchange: str, market: Mapping[str, Any], precision_mode: int) -> Instrument:
    symbol = market["symbol"]
    tick, price_scale = _step(market["precision"].get("price"), precision_mode, "price", symbol)
    lot, size_scale = _step(market["precision"].get("amount"), precision_mode, "amount", symbol)
    return Instrument(
        exchange=exchange,
        symbol=symbol,
        exchange_symbol=symbol,  # ingestion subscribes by ccxt's unified symbol
        base=market["base"],
        quote=market["quote"],
        price_scale=price_scale,
        size_scale=size_scale,
        tick_size=tick,
        lot_size=lot,
        kind=_KINDS.get(market.get("type") or "spot", InstrumentKind.SPOT),
        settle=market.get("settle") or "",
        active=market.get("active") is not False,
        aliases=(market["id"],) if market.get("id") and market["id"] != symbol else (),
    )
