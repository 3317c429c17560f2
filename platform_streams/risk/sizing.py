"""Sizing: a strategy's intent becomes an order that the instrument accepts and the budget allows.

A target position becomes the order for the difference from where the deployment will be (its
position plus its open orders); a quote is its own size. The price goes onto the tick grid in the
safe direction (a buy rounds down, a sell up), the size down to whole lots and within the
deployment's budget; what is then under the minimum size or notional is refused, never rounded up.
"""

from __future__ import annotations

import msgspec
from quicktions import Fraction

from platform_streams.risk.rules import Breach, describe
from platform_streams.schemas import Instrument, IntentKind, OrderType, Side, StrategyIntent, TimeInForce


class SizedOrder(msgspec.Struct, frozen=True):
    """An order the instrument accepts: mantissas at the instrument's scales, and the exact
    values the risk rules check (``reference_price``: the limit price, or the mid for a market order)."""

    side: Side
    order_type: OrderType
    time_in_force: TimeInForce
    price: int | None
    size: int
    price_scale: int
    size_scale: int
    quantity: Fraction
    reference_price: Fraction
    notional: Fraction


def _ceil(value: Fraction) -> int:
    return -((-value.numerator) // value.denominator)


def _floor(value: Fraction) -> int:
    return value.numerator // value.denominator


def desired_quantity(intent: StrategyIntent, expected_position: Fraction) -> Fraction:
    """The signed base quantity the intent asks to trade (0: nothing to do)."""
    if intent.kind is IntentKind.TARGET:
        return Fraction(intent.target_size, 10**intent.size_scale) - expected_position
    quantity = Fraction(intent.quote_size, 10**intent.size_scale)
    return quantity if intent.side is Side.BUY else -quantity


def price_on_tick(price: Fraction, side: Side, instrument: Instrument) -> int:
    """``price`` as a mantissa on the instrument's tick grid: a buy rounds down, a sell up."""
    tick = instrument.tick_size or 1
    ticks = price * 10**instrument.price_scale / tick
    return (_floor(ticks) if side is Side.BUY else _ceil(ticks)) * tick


def budget_room(side: Side, before: Fraction, price: Fraction, budget: Fraction) -> Fraction:
    """The most base units an order on ``side`` may trade so that |position| × price stays within
    ``budget`` (an order that only reduces |position| is never limited)."""
    largest = budget / price
    return largest - before if side is Side.BUY else largest + before


def size_intent(
    intent: StrategyIntent,
    instrument: Instrument,
    expected_position: Fraction,
    mid: Fraction | None,
    budget: Fraction | None,
) -> SizedOrder | Breach | None:
    """The order for ``intent`` (None: the target is already reached), or why there is none."""
    if intent.kind is IntentKind.QUOTE and (intent.side not in (Side.BUY, Side.SELL) or intent.limit_price is None):
        return Breach("bad_intent", "a quote needs a side and a limit price")
    quantity = desired_quantity(intent, expected_position)
    if quantity == 0:
        return None
    side = Side.BUY if quantity > 0 else Side.SELL
    if intent.limit_price is None:
        if mid is None:
            return Breach("no_market_price", "a market order needs a mid price, none known yet")
        order_type, time_in_force, price, reference = OrderType.MARKET, TimeInForce.IOC, None, mid
    else:
        price = price_on_tick(Fraction(intent.limit_price, 10**intent.price_scale), side, instrument)
        if price <= 0:
            return Breach("bad_price", f"limit price {intent.limit_price}e-{intent.price_scale} is not above 0 on the tick grid")
        order_type, time_in_force, reference = OrderType.LIMIT, TimeInForce.GTC, Fraction(price, 10**instrument.price_scale)
    wanted = abs(quantity)
    if budget is not None:
        room = budget_room(side, expected_position, reference, budget)
        if room <= 0:
            return Breach("budget", f"the deployment's budget {describe(budget)} leaves no room on the {side.value} side")
        wanted = min(wanted, room)
    return _in_lots(instrument, side, order_type, time_in_force, price, wanted, reference)


def _in_lots(
    instrument: Instrument,
    side: Side,
    order_type: OrderType,
    time_in_force: TimeInForce,
    price: int | None,
    wanted: Fraction,
    reference: Fraction,
) -> SizedOrder | Breach:
    lot = instrument.lot_size or 1
    size = _floor(wanted * 10**instrument.size_scale / lot) * lot
    if size <= 0:
        return Breach("below_lot", f"{describe(wanted)} base units is less than one lot ({lot}e-{instrument.size_scale})")
    if size < instrument.min_size:
        return Breach(
            "min_size", f"size {size}e-{instrument.size_scale} below the minimum {instrument.min_size}e-{instrument.size_scale}"
        )
    quantity = Fraction(size, 10**instrument.size_scale)
    notional = quantity * reference
    min_notional = Fraction(instrument.min_notional, 10**instrument.min_notional_scale)
    if notional < min_notional:
        return Breach("min_notional", f"notional {describe(notional)} below the minimum {describe(min_notional)}")
    return SizedOrder(
        side, order_type, time_in_force, price, size, instrument.price_scale, instrument.size_scale, quantity, reference, notional
    )
