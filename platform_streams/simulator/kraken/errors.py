"""Kraken's private REST error strings, and the mapping from the matching engine's neutral reject reasons.

Kraken answers errors with HTTP 200 and ``{"error":["EOrder:Insufficient funds"]}``.
The strings are Kraken's documented ones; ``EOrder:Duplicate cl_ord_id`` is the
simulator's wording for a ``cl_ord_id`` already used by an open order (Kraken refuses
those; its exact string is not documented).
"""

from __future__ import annotations

from platform_streams.simulator.kraken.rest import KrakenRestError
from platform_streams.simulator.matching.filters import RejectReason

INVALID_KEY = "EAPI:Invalid key"
INVALID_SIGNATURE = "EAPI:Invalid signature"
INVALID_NONCE = "EAPI:Invalid nonce"
API_RATE_LIMIT = "EAPI:Rate limit exceeded"
ORDER_RATE_LIMIT = "EOrder:Rate limit exceeded"
INVALID_ARGUMENTS = "EGeneral:Invalid arguments"
UNKNOWN_PAIR = "EQuery:Unknown asset pair"
UNKNOWN_ORDER = "EOrder:Unknown order"
INVALID_ORDER = "EOrder:Invalid order"


def invalid_argument(name: str) -> KrakenRestError:
    return KrakenRestError(f"{INVALID_ARGUMENTS}:{name}")


_ENGINE_ERRORS = {
    RejectReason.PRICE_FILTER: "EOrder:Invalid price:Invalid price argument",
    RejectReason.PERCENT_PRICE: "EOrder:Invalid price:Invalid price argument",
    RejectReason.LOT_SIZE: "EGeneral:Invalid arguments:volume",
    RejectReason.NOTIONAL: "EOrder:Order minimum not met",
    RejectReason.MAX_NUM_ORDERS: "EOrder:Orders limit exceeded",
    RejectReason.INSUFFICIENT_BALANCE: "EOrder:Insufficient funds",
    RejectReason.DUPLICATE_ORDER: "EOrder:Duplicate cl_ord_id",
    RejectReason.WOULD_TAKE: "EOrder:Post only order",
    RejectReason.UNKNOWN_ORDER: UNKNOWN_ORDER,
}


def order_rejected(reason: RejectReason) -> KrakenRestError:
    return KrakenRestError(_ENGINE_ERRORS[reason])
