"""The pre-trade risk rules, each a pure function of numbers: None when the order passes, else a
:class:`Breach` naming the rule and saying by how much.

Quantities are exact fractions (base units for sizes, quote units for money), never floats. A
value exactly at its limit passes; anything beyond it fails. Limits that are None do not apply.
"""

from __future__ import annotations

import msgspec
from quicktions import Fraction


class Breach(msgspec.Struct, frozen=True):
    """Why an intent is refused: ``rule`` is a stable code (metrics label, ``RiskRejection.rule``),
    ``detail`` the numbers in words."""

    rule: str
    detail: str


def describe(value: Fraction) -> str:
    """A fraction as a short decimal for a reason text (exact when it terminates)."""
    if value.denominator == 1:
        return str(value.numerator)
    return f"{float(value):.10g}"  # text for people, never used in a decision


def check_kill_switch(halted_scope: str | None, reason: str = "") -> Breach | None:
    """Refused while a kill switch covering the order is set."""
    if halted_scope is None:
        return None
    return Breach("kill_switch", f"trading halted for {halted_scope}" + (f": {reason}" if reason else ""))


def check_order_notional(notional: Fraction, limit: Fraction | None) -> Breach | None:
    """One order's notional (price × size, quote units) at most ``limit``."""
    if limit is None or notional <= limit:
        return None
    return Breach("max_order_notional", f"order notional {describe(notional)} above the limit {describe(limit)}")


def check_open_orders(open_orders: int, limit: int | None, scope: str) -> Breach | None:
    """With this order, ``scope`` (an account or a deployment) has at most ``limit`` open orders."""
    if limit is None or open_orders + 1 <= limit:
        return None
    return Breach("max_open_orders", f"{scope} has {open_orders} open orders, the limit is {limit}")


def check_price_band(price: Fraction | None, mid: Fraction | None, band_bps: int | None) -> Breach | None:
    """A limit price within ``band_bps`` basis points of the last mid; a market order has no price
    to check, but with a band set no order passes before a mid is known."""
    if band_bps is None:
        return None
    if mid is None:
        return Breach("no_market_price", "no mid price known for the instrument yet")
    if price is None:
        return None
    if abs(price - mid) * 10_000 <= band_bps * mid:
        return None
    distance = abs(price - mid) * 10_000 / mid
    return Breach(
        "price_band",
        f"price {describe(price)} is {describe(distance)} bps from the mid {describe(mid)}, the band is {band_bps} bps",
    )


def check_position(before: Fraction, after: Fraction, limit: Fraction | None) -> Breach | None:
    """The worst-case net position after the order (``after``: position, the same side's open
    orders and this order) at most ``limit`` either way; an order that brings it closer to flat
    always passes, so a lowered limit never traps a position."""
    if limit is None or abs(after) <= limit or abs(after) < abs(before):
        return None
    return Breach("max_position", f"position would reach {describe(after)}, the limit is {describe(limit)}")


def check_position_notional(before: Fraction, after: Fraction, price: Fraction, limit: Fraction | None) -> Breach | None:
    """As :func:`check_position`, in quote units at ``price``."""
    if limit is None or abs(after) * price <= limit or abs(after) < abs(before):
        return None
    return Breach(
        "max_position_notional", f"position notional would reach {describe(abs(after) * price)}, the limit is {describe(limit)}"
    )


def check_daily_loss(daily_pnl: Fraction, limit: Fraction | None, reduces_position: bool) -> Breach | None:
    """A deployment that lost more than ``limit`` today (realised + unrealised) may only reduce its position."""
    if limit is None or daily_pnl >= -limit or reduces_position:
        return None
    return Breach("max_daily_loss", f"daily PnL {describe(daily_pnl)} is below the loss limit -{describe(limit)}")
