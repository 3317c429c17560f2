"""The private stream's reports at an order's own scales: an :class:`OrderReport` as the
:class:`OrderUpdate` the REST road makes, a :class:`TradeReport` as the same :class:`Fill`."""

from __future__ import annotations

from platform_streams.exchanges.user_stream import OrderReport, TradeReport
from platform_streams.execution.order_lifecycle import OrderUpdate
from platform_streams.schemas import Fill, OrderRequest, OrderStatus
from platform_streams.schemas.fixed_point import parse_at_scale, parse_decimal


class ReportError(ValueError):
    """A report whose numbers do not fit the order (a size finer than its scale)."""


def _mantissa(text: str, scale: int, what: str, client_order_id: str) -> int:
    try:
        return parse_at_scale(text, scale)
    except ValueError as exc:
        raise ReportError(f"order {client_order_id}: {what} {text!r} does not fit scale {scale}: {exc}") from None


def order_update_of(report: OrderReport, request: OrderRequest, receive_ts_ns: int) -> OrderUpdate:
    """The report as an update of the order (a cancel or expiry that lost the race to the last fill is a fill)."""
    filled = _mantissa(report.filled, request.size_scale, "filled size", request.client_order_id)
    status = report.status
    if status in (OrderStatus.CANCELED, OrderStatus.EXPIRED) and filled == request.size:
        status = OrderStatus.FILLED
    elif status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED):
        status = OrderStatus.PARTIALLY_FILLED if 0 < filled < request.size else OrderStatus.NEW
        if filled == request.size:
            status = OrderStatus.FILLED
    return OrderUpdate(
        status=status,
        filled_size=filled,
        exchange_order_id=report.exchange_order_id,
        reason=report.reason,
        exchange_ts_ns=report.exchange_ts_ns,
        receive_ts_ns=receive_ts_ns,
    )


def fill_of(report: TradeReport, request: OrderRequest, account: str, exchange: str, receive_ts_ns: int) -> Fill:
    """The report as the order's fill (the fee at its own scale, as the venue wrote it)."""
    try:
        fee, fee_scale = parse_decimal(report.fee or "0")
    except ValueError as exc:
        raise ReportError(f"order {request.client_order_id}: fee {report.fee!r}: {exc}") from None
    return Fill(
        fill_id=report.fill_id,
        client_order_id=request.client_order_id,
        exchange_order_id=report.exchange_order_id,
        account=account,
        exchange=exchange,
        symbol=request.symbol,
        side=report.side,
        price=_mantissa(report.price, request.price_scale, "fill price", request.client_order_id),
        size=_mantissa(report.size, request.size_scale, "fill size", request.client_order_id),
        price_scale=request.price_scale,
        size_scale=request.size_scale,
        fee=fee,
        fee_scale=fee_scale,
        fee_asset=report.fee_asset,
        liquidity=report.liquidity,
        exchange_ts_ns=report.exchange_ts_ns or receive_ts_ns,
        receive_ts_ns=receive_ts_ns,
    )
