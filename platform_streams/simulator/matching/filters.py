"""An instrument's trading rules applied to an order: price tick and range, lot step and range, notional.

Checks run in the order exchanges apply them (price, percent-price, lot size,
notional) on exact scale-8 mantissas, and convert to ticks and lots on success.
"""

from __future__ import annotations

from enum import StrEnum

from platform_streams.simulator.market.universe import SCALE_FACTOR, Instrument

PERCENT_PRICE_UP = 5  # a limit price may be at most 5x and at least 1/5 of the reference price
PERCENT_PRICE_DOWN_DIVISOR = 5
MAX_OPEN_ORDERS_PER_INSTRUMENT = 200


class RejectReason(StrEnum):
    """Why an order or a cancel was refused, in exchange-neutral terms (each protocol maps it to its codes)."""

    PRICE_FILTER = "PRICE_FILTER"
    PERCENT_PRICE = "PERCENT_PRICE"
    LOT_SIZE = "LOT_SIZE"
    NOTIONAL = "NOTIONAL"
    MAX_NUM_ORDERS = "MAX_NUM_ORDERS"
    INSUFFICIENT_BALANCE = "INSUFFICIENT_BALANCE"
    DUPLICATE_ORDER = "DUPLICATE_ORDER"
    WOULD_TAKE = "WOULD_TAKE"
    UNKNOWN_ORDER = "UNKNOWN_ORDER"


class OrderRejected(Exception):
    """The matching engine refused a request; ``reason`` says why."""

    def __init__(self, reason: RejectReason, detail: str = "") -> None:
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)
        self.reason = reason
        self.detail = detail


def price_to_ticks(spec: Instrument, price: int) -> int:
    """A limit price (scale 8) as ticks; PRICE_FILTER if off the tick grid or out of range."""
    if price < spec.tick or price % spec.tick or price > spec.max_price_ticks * spec.tick:
        raise OrderRejected(RejectReason.PRICE_FILTER, f"price {price} vs tick {spec.tick}")
    return price // spec.tick


def check_percent_price(price_ticks: int, reference_ticks: int) -> None:
    if reference_ticks and not (
        reference_ticks <= price_ticks * PERCENT_PRICE_DOWN_DIVISOR and price_ticks <= reference_ticks * PERCENT_PRICE_UP
    ):
        raise OrderRejected(RejectReason.PERCENT_PRICE, f"price {price_ticks} ticks vs reference {reference_ticks}")


def quantity_to_lots(spec: Instrument, quantity: int) -> int:
    """A quantity (scale 8) as lots; LOT_SIZE if off the step or out of range."""
    if quantity < spec.lot or quantity % spec.lot or quantity // spec.lot > spec.max_lots:
        raise OrderRejected(RejectReason.LOT_SIZE, f"quantity {quantity} vs step {spec.lot}")
    return quantity // spec.lot


def check_notional(spec: Instrument, price_ticks: int, lots: int) -> None:
    notional = price_ticks * spec.tick * lots * spec.lot // SCALE_FACTOR
    if notional < spec.min_notional:
        raise OrderRejected(RejectReason.NOTIONAL, f"notional {notional} below {spec.min_notional}")


def quote_amount(spec: Instrument, price_ticks: int, lots: int) -> int:
    """Price × quantity in quote units at scale 8, rounded down."""
    return price_ticks * spec.tick * lots * spec.lot // SCALE_FACTOR


def quote_amount_ceil(spec: Instrument, price_ticks: int, lots: int) -> int:
    """Price × quantity in quote units at scale 8, rounded up (what a buy must lock)."""
    return -(-price_ticks * spec.tick * lots * spec.lot // SCALE_FACTOR)
