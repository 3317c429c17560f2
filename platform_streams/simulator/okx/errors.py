"""OKX v5 error replies: request-level codes in the envelope, per-order ``sCode``/``sMsg`` failures.

Codes and messages are the ones in OKX's v5 error code list (50xxx general and
authentication, 51xxx trading); the mapping from the matching engine's neutral
reject reasons lives here too.
"""

from __future__ import annotations

from platform_streams.simulator.matching.filters import RejectReason


class OkxRestError(Exception):
    """A request refused as a whole: OKX's ``code`` and ``msg`` in the envelope, with its HTTP status."""

    def __init__(self, code: str, msg: str, status: int = 400) -> None:
        super().__init__(f"{code}: {msg}")
        self.code, self.msg, self.status = code, msg, status


class OkxOrderFailure(Exception):
    """One order (or cancel) refused: the ``sCode``/``sMsg`` of its ``data`` entry (the envelope says ``"1"``)."""

    def __init__(self, s_code: str, s_msg: str) -> None:
        super().__init__(f"{s_code}: {s_msg}")
        self.s_code, self.s_msg = s_code, s_msg


def empty_parameter(name: str) -> OkxRestError:
    return OkxRestError("50014", f"Parameter {name} can not be empty.")


def parameter_error(name: str) -> OkxRestError:
    return OkxRestError("51000", f"Parameter {name} error")


def unknown_instrument() -> OkxRestError:
    return OkxRestError("51001", "Instrument ID does not exist.", 200)


def rate_limited() -> OkxRestError:
    return OkxRestError("50011", "Too Many Requests", 429)


def order_does_not_exist() -> OkxRestError:
    return OkxRestError("51603", "Order does not exist", 200)


def cancel_failed() -> OkxOrderFailure:
    return OkxOrderFailure("51400", "Order cancellation failed as the order has been filled, canceled or does not exist.")


def order_rejected(reason: RejectReason, short_asset: str) -> OkxOrderFailure:
    """A new order the engine refused; ``short_asset`` is what a buy spends or a sell delivers."""
    if reason is RejectReason.INSUFFICIENT_BALANCE:
        return OkxOrderFailure("51008", f"Order failed. Insufficient {short_asset} balance in account.")
    code, message = _ENGINE_FAILURES[reason]
    return OkxOrderFailure(code, message)


_ENGINE_FAILURES = {
    RejectReason.PRICE_FILTER: ("51000", "Parameter px error"),
    RejectReason.PERCENT_PRICE: ("51006", "Order price is not within the price limit."),
    RejectReason.LOT_SIZE: ("51121", "Order quantity must be a multiple of the lot size."),
    RejectReason.NOTIONAL: ("51020", "Your order should meet or exceed the minimum order amount."),
    RejectReason.MAX_NUM_ORDERS: ("51025", "Order count exceeds the limit."),
    RejectReason.DUPLICATE_ORDER: ("51016", "Duplicated clOrdId"),
    # OKX accepts a post_only order that would take and cancels it at once; the simulator refuses it outright
    RejectReason.WOULD_TAKE: ("51000", "Parameter ordType error: a post_only order would take liquidity"),
    RejectReason.UNKNOWN_ORDER: ("51603", "Order does not exist"),
}
