"""An instrument's trading rules applied exactly: prices onto its tick grid, decimal quantities
into whole lots of its size mantissa. Strategies round here rather than each in its own way."""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

from platform_streams.schemas import Instrument


def price_down_to_tick(price: int, instrument: Instrument) -> int:
    """The highest tick at or below ``price`` (a bid never rounds up)."""
    tick = instrument.tick_size or 1
    return price - price % tick


def price_up_to_tick(price: int, instrument: Instrument) -> int:
    """The lowest tick at or above ``price`` (an ask never rounds down)."""
    tick = instrument.tick_size or 1
    return -((-price) // tick) * tick


def size_in_lots(quantity: Decimal, instrument: Instrument) -> int:
    """``quantity`` (base units, ≥ 0) as a size mantissa, rounded down to whole lots."""
    mantissa = int((quantity.scaleb(instrument.size_scale)).to_integral_value(rounding=ROUND_FLOOR))
    lot = instrument.lot_size or 1
    return max(mantissa - mantissa % lot, 0)


def size_as_decimal(size: int, instrument: Instrument) -> Decimal:
    """A size mantissa of ``instrument`` in base units."""
    return Decimal(size).scaleb(-instrument.size_scale)


def price_as_decimal(price: int, instrument: Instrument) -> Decimal:
    """A price mantissa of ``instrument`` in quote units."""
    return Decimal(price).scaleb(-instrument.price_scale)


def price_to_mantissa(price: Decimal, instrument: Instrument, *, up: bool) -> int:
    """A decimal price onto ``instrument``'s tick grid: rounded up (an ask) or down (a bid)."""
    scaled = price.scaleb(instrument.price_scale)
    mantissa = int(-((-scaled).to_integral_value(rounding=ROUND_FLOOR)) if up else scaled.to_integral_value(rounding=ROUND_FLOOR))
    return price_up_to_tick(mantissa, instrument) if up else price_down_to_tick(mantissa, instrument)
