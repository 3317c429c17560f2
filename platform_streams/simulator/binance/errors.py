"""Binance's REST error replies: ``{"code":-1121,"msg":"Invalid symbol."}`` with the HTTP status Binance uses.

Codes and messages are the ones in Binance's spot error documentation; the
mapping from the matching engine's neutral reject reasons lives here too.
"""

from __future__ import annotations

from platform_streams.simulator.matching.filters import RejectReason


class BinanceError(Exception):
    """An error reply: Binance ``code``, message and HTTP status (plus extra headers, e.g. Retry-After)."""

    def __init__(self, code: int, msg: str, status: int = 400, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{code}: {msg}")
        self.code = code
        self.msg = msg
        self.status = status
        self.headers = headers or {}


def invalid_symbol() -> BinanceError:
    return BinanceError(-1121, "Invalid symbol.")


def mandatory_parameter(name: str) -> BinanceError:
    return BinanceError(-1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")


def illegal_characters(name: str) -> BinanceError:
    return BinanceError(
        -1100, f"Illegal characters found in parameter '{name}'; legal range is '^([0-9]{{1,20}})(\\.[0-9]{{1,20}})?$'."
    )


def too_much_precision(name: str) -> BinanceError:
    return BinanceError(-1111, f"Parameter '{name}' has too much precision.")


def invalid_interval() -> BinanceError:
    return BinanceError(-1120, "Invalid interval.")


def invalid_side() -> BinanceError:
    return BinanceError(-1117, "Invalid side.")


def invalid_order_type() -> BinanceError:
    return BinanceError(-1116, "Invalid orderType.")


def invalid_time_in_force() -> BinanceError:
    return BinanceError(-1115, "Invalid timeInForce.")


def invalid_limit(value: str) -> BinanceError:
    return BinanceError(-1130, f"Data sent for parameter 'limit' is not valid. ({value})")


def api_key_format_invalid() -> BinanceError:
    return BinanceError(-2014, "API-key format invalid.", status=401)


def api_key_rejected() -> BinanceError:
    return BinanceError(-2015, "Invalid API-key, IP, or permissions for action.", status=401)


def invalid_signature() -> BinanceError:
    return BinanceError(-1022, "Signature for this request is not valid.")


def timestamp_outside_recv_window() -> BinanceError:
    return BinanceError(-1021, "Timestamp for this request is outside of the recvWindow.")


def timestamp_ahead() -> BinanceError:
    return BinanceError(-1021, "Timestamp for this request was 1000ms ahead of the server's time.")


def recv_window_too_large() -> BinanceError:
    return BinanceError(-1131, "recvWindow must be less than 60000")


def invalid_listen_key() -> BinanceError:
    return BinanceError(-1125, "This listenKey does not exist.")


def unknown_order_on_cancel() -> BinanceError:
    return BinanceError(-2011, "Unknown order sent.")


def order_does_not_exist() -> BinanceError:
    return BinanceError(-2013, "Order does not exist.")


def either_order_id_or_client_id() -> BinanceError:
    return BinanceError(-1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!")


_FILTER_FAILURES = {
    RejectReason.PRICE_FILTER: "PRICE_FILTER",
    RejectReason.PERCENT_PRICE: "PERCENT_PRICE",
    RejectReason.LOT_SIZE: "LOT_SIZE",
    RejectReason.NOTIONAL: "MIN_NOTIONAL",  # the filter this simulator's exchangeInfo lists
    RejectReason.MAX_NUM_ORDERS: "MAX_NUM_ORDERS",
}
_ENGINE_MESSAGES = {
    RejectReason.INSUFFICIENT_BALANCE: "Account has insufficient balance for requested action.",
    RejectReason.DUPLICATE_ORDER: "Duplicate order sent.",
    RejectReason.WOULD_TAKE: "Order would immediately match and take.",
    RejectReason.UNKNOWN_ORDER: "Unknown order sent.",
}


def order_rejected(reason: RejectReason) -> BinanceError:
    """A new order refused: filter failures are -1013 (rejected before the engine), the rest -2010."""
    if reason in _FILTER_FAILURES:
        return BinanceError(-1013, f"Filter failure: {_FILTER_FAILURES[reason]}")
    return BinanceError(-2010, _ENGINE_MESSAGES[reason])
