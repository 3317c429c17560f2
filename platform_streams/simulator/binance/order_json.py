"""Binance's JSON views of orders, fills and accounts (REST responses and user data stream events).

Key order follows Binance's spot documentation; amounts are eight-decimal text.
"""

from __future__ import annotations

from platform_streams.simulator.market.universe import Instrument
from platform_streams.simulator.matching.accounts import Account
from platform_streams.simulator.matching.orders import ExecutionType, Fill, Order, OrderStatus, OrderType


def decimal8(mantissa: int) -> str:
    sign = "-" if mantissa < 0 else ""
    whole, fraction = divmod(abs(mantissa), 10**8)
    return f"{sign}{whole}.{fraction:08d}"


def _price(order: Order, spec: Instrument) -> str:
    return decimal8(order.price_ticks * spec.tick if order.order_type is not OrderType.MARKET else 0)


def _common(order: Order, spec: Instrument) -> dict[str, object]:
    return {
        "price": _price(order, spec),
        "origQty": decimal8(order.lots * spec.lot),
        "executedQty": decimal8(order.executed_lots * spec.lot),
        "cummulativeQuoteQty": decimal8(order.cumulative_quote),
        "status": order.status.value,
        "timeInForce": order.time_in_force.value,
        "type": order.order_type.value,
        "side": order.side.value,
    }


def new_order_response(order: Order, spec: Instrument, symbol: str, response_type: str) -> dict[str, object]:
    """``POST /api/v3/order`` response: ACK, RESULT or FULL."""
    body: dict[str, object] = {
        "symbol": symbol,
        "orderId": order.order_id,
        "orderListId": -1,
        "clientOrderId": order.client_order_id,
        "transactTime": order.created_ms,
    }
    if response_type == "ACK":
        return body
    body.update(_common(order, spec))
    body["workingTime"] = order.working_ms if order.working_ms >= 0 else order.created_ms
    body["selfTradePreventionMode"] = "NONE"
    if response_type == "FULL":
        body["fills"] = [
            {
                "price": decimal8(f.price_ticks * spec.tick),
                "qty": decimal8(f.lots * spec.lot),
                "commission": decimal8(f.commission),
                "commissionAsset": f.commission_asset,
                "tradeId": f.trade_id,
            }
            for f in order.fills
        ]
    return body


def query_order_response(order: Order, spec: Instrument, symbol: str) -> dict[str, object]:
    """``GET /api/v3/order`` and ``GET /api/v3/openOrders`` entries."""
    return {
        "symbol": symbol,
        "orderId": order.order_id,
        "orderListId": -1,
        "clientOrderId": order.client_order_id,
        **_common(order, spec),
        "stopPrice": "0.00000000",
        "icebergQty": "0.00000000",
        "time": order.created_ms,
        "updateTime": order.updated_ms,
        "isWorking": order.working_ms >= 0,
        "workingTime": order.working_ms if order.working_ms >= 0 else -1,
        "origQuoteOrderQty": decimal8(order.quote_amount),
        "selfTradePreventionMode": "NONE",
    }


def cancel_order_response(
    order: Order, spec: Instrument, symbol: str, cancel_client_order_id: str, now_ms: int
) -> dict[str, object]:
    return {
        "symbol": symbol,
        "origClientOrderId": order.client_order_id,
        "orderId": order.order_id,
        "orderListId": -1,
        "clientOrderId": cancel_client_order_id,
        "transactTime": now_ms,
        **_common(order, spec),
        "selfTradePreventionMode": "NONE",
    }


def account_trade(fill: Fill, spec: Instrument, symbol: str) -> dict[str, object]:
    """One ``GET /api/v3/myTrades`` entry."""
    return {
        "symbol": symbol,
        "id": fill.trade_id,
        "orderId": fill.order_id,
        "orderListId": -1,
        "price": decimal8(fill.price_ticks * spec.tick),
        "qty": decimal8(fill.lots * spec.lot),
        "quoteQty": decimal8(fill.quote_amount),
        "commission": decimal8(fill.commission),
        "commissionAsset": fill.commission_asset,
        "time": fill.time_ms,
        "isBuyer": fill.is_buyer,
        "isMaker": fill.is_maker,
        "isBestMatch": True,
    }


def account_information(account: Account) -> dict[str, object]:
    """``GET /api/v3/account``."""
    maker, taker = account.maker_fee_bps, account.taker_fee_bps
    return {
        "makerCommission": maker,
        "takerCommission": taker,
        "buyerCommission": 0,
        "sellerCommission": 0,
        "commissionRates": {
            "maker": f"{maker / 10_000:.8f}",
            "taker": f"{taker / 10_000:.8f}",
            "buyer": "0.00000000",
            "seller": "0.00000000",
        },
        "canTrade": True,
        "canWithdraw": True,
        "canDeposit": True,
        "brokered": False,
        "requireSelfTradePrevention": False,
        "preventSor": False,
        "updateTime": account.update_ms,
        "accountType": "SPOT",
        "balances": [
            {"asset": a, "free": decimal8(account.balance(a)[0]), "locked": decimal8(account.balance(a)[1])}
            for a in account.assets()
        ],
        "permissions": ["SPOT"],
    }


def execution_report(
    order: Order, spec: Instrument, symbol: str, execution: ExecutionType, fill: Fill | None, event_ms: int, event_number: int
) -> dict[str, object]:
    """The user data stream's ``executionReport`` event."""
    canceled = execution is ExecutionType.CANCELED
    report: dict[str, object] = {
        "e": "executionReport",
        "E": event_ms,
        "s": symbol,
        "c": order.cancel_client_order_id if canceled and order.cancel_client_order_id else order.client_order_id,
        "S": order.side.value,
        "o": order.order_type.value,
        "f": order.time_in_force.value,
        "q": decimal8(order.lots * spec.lot),
        "p": _price(order, spec),
        "P": "0.00000000",
        "F": "0.00000000",
        "g": -1,
        "C": order.client_order_id if canceled else "",
        "x": execution.value,
        "X": order.status.value if execution is not ExecutionType.NEW else OrderStatus.NEW.value,
        "r": "NONE",
        "i": order.order_id,
        "l": decimal8(fill.lots * spec.lot if fill else 0),
        "z": decimal8(order.executed_lots * spec.lot),
        "L": decimal8(fill.price_ticks * spec.tick if fill else 0),
        "n": decimal8(fill.commission) if fill else "0",
        "N": fill.commission_asset if fill else None,
        "T": fill.time_ms if fill else event_ms,
        "t": fill.trade_id if fill else -1,
        "I": event_number,
        "w": order.status.is_open and order.working_ms >= 0,
        "m": fill.is_maker if fill else False,
        "M": False,
        "O": order.created_ms,
        "Z": decimal8(order.cumulative_quote),
        "Y": decimal8(fill.quote_amount if fill else 0),
        "Q": decimal8(order.quote_amount),
    }
    if order.working_ms >= 0:
        report["W"] = order.working_ms
    report["V"] = "NONE"
    return report


def account_position(account: Account, assets: list[str], event_ms: int) -> dict[str, object]:
    """The user data stream's ``outboundAccountPosition`` event."""
    return {
        "e": "outboundAccountPosition",
        "E": event_ms,
        "u": account.update_ms or event_ms,
        "B": [{"a": a, "f": decimal8(account.balance(a)[0]), "l": decimal8(account.balance(a)[1])} for a in assets],
    }
