"""OKX v5 JSON views of orders, fills and balances: REST ``data`` entries and ``orders`` channel pushes.

Keys are the ones of OKX's documented responses; numbers are strings without
trailing zeros, computed from integer mantissas; fees are negative (charged), in
the asset received. An order the engine expired (IOC / FOK / market remainder) is
``canceled``, as OKX reports it.
"""

from __future__ import annotations

from platform_streams.simulator.decimal_text import trimmed
from platform_streams.simulator.market.universe import SCALE_FACTOR, Instrument
from platform_streams.simulator.matching.accounts import Account
from platform_streams.simulator.matching.orders import Fill, Order, OrderStatus, OrderType, TimeInForce

_STATES = {
    OrderStatus.NEW: "live",
    OrderStatus.PARTIALLY_FILLED: "partially_filled",
    OrderStatus.FILLED: "filled",
    OrderStatus.CANCELED: "canceled",
    OrderStatus.EXPIRED: "canceled",
}
_CANCEL_SOURCES = {OrderStatus.CANCELED: "1", OrderStatus.EXPIRED: "14"}  # canceled by the user / IOC remainder


def text(mantissa: int) -> str:
    """A scale-8 mantissa as OKX writes numbers: ``-0.0012``, ``30316``."""
    return ("-" if mantissa < 0 else "") + trimmed(abs(mantissa)).decode()


def okx_order_type(order: Order) -> str:
    """``market``, ``limit``, ``post_only``, ``ioc`` or ``fok``."""
    if order.order_type is OrderType.MARKET:
        return "market"
    if order.order_type is OrderType.LIMIT_MAKER:
        return "post_only"
    return {TimeInForce.GTC: "limit", TimeInForce.IOC: "ioc", TimeInForce.FOK: "fok"}[order.time_in_force]


def _fee_asset(order: Order, spec: Instrument) -> str:
    return spec.base if order.is_buy else spec.quote


def _average_price(order: Order, spec: Instrument) -> str:
    if not order.executed_lots:
        return ""
    return text(order.cumulative_quote * SCALE_FACTOR // (order.executed_lots * spec.lot))


def order_entry(order: Order, spec: Instrument, inst_id: str, tag: str) -> dict[str, object]:
    """One ``GET /api/v5/trade/order`` / ``orders-pending`` entry."""
    last = order.fills[-1] if order.fills else None
    by_quote = order.order_type is OrderType.MARKET and order.quote_amount > 0
    return {
        "accFillSz": text(order.executed_lots * spec.lot),
        "algoClOrdId": "",
        "algoId": "",
        "attachAlgoOrds": [],
        "avgPx": _average_price(order, spec),
        "cTime": str(order.created_ms),
        "cancelSource": _CANCEL_SOURCES.get(order.status, ""),
        "cancelSourceReason": "",
        "category": "normal",
        "ccy": "",
        "clOrdId": order.client_order_id,
        "fee": text(-sum(f.commission for f in order.fills)) if order.fills else "0",
        "feeCcy": last.commission_asset if last else _fee_asset(order, spec),
        "fillPx": text(last.price_ticks * spec.tick) if last else "",
        "fillSz": text(last.lots * spec.lot) if last else "0",
        "fillTime": str(last.time_ms) if last else "",
        "instId": inst_id,
        "instType": "SPOT",
        "lever": "",
        "ordId": str(order.order_id),
        "ordType": okx_order_type(order),
        "pnl": "0",
        "posSide": "net",
        "px": "" if order.order_type is OrderType.MARKET else text(order.price_ticks * spec.tick),
        "rebate": "0",
        "rebateCcy": spec.quote if order.is_buy else spec.base,
        "reduceOnly": "false",
        "side": "buy" if order.is_buy else "sell",
        "source": "",
        "state": _STATES[order.status],
        "stpMode": "cancel_maker",
        "sz": text(order.quote_amount) if by_quote else text(order.lots * spec.lot),
        "tag": tag,
        "tdMode": "cash",
        "tgtCcy": "quote_ccy" if by_quote else ("base_ccy" if order.order_type is OrderType.MARKET else ""),
        "tradeId": str(last.trade_id) if last else "",
        "uTime": str(order.updated_ms),
    }


def order_push(order: Order, spec: Instrument, inst_id: str, tag: str, fill: Fill | None) -> dict[str, object]:
    """One entry of an ``orders`` channel push: the order now, and the fill that changed it (if one did)."""
    entry = order_entry(order, spec, inst_id, tag)
    entry.update(
        {
            "fillPx": text(fill.price_ticks * spec.tick) if fill else "",
            "fillSz": text(fill.lots * spec.lot) if fill else "0",
            "fillTime": str(fill.time_ms) if fill else "",
            "tradeId": str(fill.trade_id) if fill else "",
            "fillFee": text(-fill.commission) if fill else "0",
            "fillFeeCcy": fill.commission_asset if fill else "",
            "execType": ("M" if fill.is_maker else "T") if fill else "",
            "fillNotionalUsd": "",
            "notionalUsd": "",
            "amendResult": "",
            "reqId": "",
            "code": "0",
            "msg": "",
        }
    )
    return entry


def bill_id(fill: Fill) -> str:
    """A fill's bill id: unique per account (trade ids are unique per instrument)."""
    return str(fill.trade_id * 100_000 + fill.instrument)


def fill_entry(fill: Fill, spec: Instrument, inst_id: str, client_order_id: str, tag: str) -> dict[str, object]:
    """One ``GET /api/v5/trade/fills`` / ``fills-history`` entry."""
    return {
        "instType": "SPOT",
        "instId": inst_id,
        "tradeId": str(fill.trade_id),
        "ordId": str(fill.order_id),
        "clOrdId": client_order_id,
        "billId": bill_id(fill),
        "subType": "1" if fill.is_buyer else "2",
        "tag": tag,
        "fillPx": text(fill.price_ticks * spec.tick),
        "fillSz": text(fill.lots * spec.lot),
        "fillIdxPx": "",
        "fillPnl": "0",
        "fillPxVol": "",
        "fillPxUsd": "",
        "fillMarkVol": "",
        "fillFwdPx": "",
        "fillMarkPx": "",
        "side": "buy" if fill.is_buyer else "sell",
        "posSide": "net",
        "execType": "M" if fill.is_maker else "T",
        "feeCcy": fill.commission_asset,
        "fee": text(-fill.commission),
        "ts": str(fill.time_ms),
        "fillTime": str(fill.time_ms),
        "feeRate": "",
    }


def balance(account: Account, currencies: set[str] | None, now_ms: int) -> dict[str, object]:
    """The one ``GET /api/v5/account/balance`` entry (a spot cash account: ``availEq`` is empty)."""
    details = []
    for asset in account.assets():
        if currencies is not None and asset not in currencies:
            continue
        free, locked = account.balance(asset)
        details.append(
            {
                "availBal": text(free),
                "availEq": "",
                "cashBal": text(free + locked),
                "ccy": asset,
                "disEq": "",
                "eq": text(free + locked),
                "eqUsd": "",
                "frozenBal": text(locked),
                "ordFrozen": text(locked),
                "uTime": str(account.update_ms or now_ms),
                "upl": "0",
            }
        )
    return {"adjEq": "", "details": details, "imr": "", "isoEq": "0", "mgnRatio": "", "totalEq": "", "uTime": str(now_ms)}
