"""Order entry on one exchange account through ccxt's async client, exact and idempotent.

Exact: the client is told to give every number as decimal text (``exchange.number = str``), so
sizes, prices and fees go from the exchange's JSON to integer mantissas without a float.
Idempotent: every order carries its deterministic client order id (ccxt's unified
``clientOrderId`` parameter, which each venue's code maps to its own field), and an answer that
never came (a timeout, a dropped connection) is resolved by asking the exchange for that client
order id rather than by sending again (:meth:`CcxtOrderEntry.place`).

Within limits: every call first asks the host's request budget (:class:`RequestBudget`), which
keeps every daemon's calls to the exchange within its limits per IP and per account; a 429 is told
back to it as a backoff (of the whole exchange when the IP was refused, else of the account), so
every daemon on the host pauses, not only the one that was refused.

Real exchanges or the simulator are the same code: only the URLs and keys in the ccxt config
differ (keys come from the environment or a secrets store and are never logged).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

import ccxt.async_support as ccxt_async
from ccxt.base.errors import (
    AuthenticationError,
    DDoSProtection,
    ExchangeNotAvailable,
    InsufficientFunds,
    InvalidOrder,
    NetworkError,
    OrderNotFound,
    RateLimitExceeded,
    RequestTimeout,
)

from platform_streams.exchanges.venue_adapter import OrderEntrySpec
from platform_streams.execution.order_lifecycle import OrderUpdate
from platform_streams.ingestion.snapshot_budget_service import SnapshotBudgetError
from platform_streams.schemas import Fill, Liquidity, OrderRequest, OrderStatus, OrderType, Side
from platform_streams.schemas.fixed_point import format_fixed, parse_at_scale, parse_decimal

log = logging.getLogger(__name__)

_STATUS = {
    "closed": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "cancelled": OrderStatus.CANCELED,
    "rejected": OrderStatus.REJECTED,
    "expired": OrderStatus.EXPIRED,
}


class OrderEntryError(RuntimeError):
    """The exchange could not be asked (after retries) or said something we cannot read."""


class RateLimited(OrderEntryError):
    """The exchange refused for rate: wait ``retry_after_s`` before asking it again."""

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class RequestBudget(Protocol):
    """The host's request budget as a caller sees it (the service's client, or the in-process budget)."""

    async def acquire(
        self, exchange: str, weight: int = 1, priority: int = 1, *, kind: str = "snapshot", account: str = "",
        costs: dict[str, int] | None = None,
    ) -> None: ...  # fmt: skip

    async def backoff(self, exchange: str, seconds: float, account: str = "") -> None: ...

    async def close(self) -> None: ...


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _mantissa(value: Any, scale: int, what: str) -> int:
    text = _text(value)
    if text is None:
        return 0
    try:
        return parse_at_scale(text, scale)
    except ValueError as exc:
        raise OrderEntryError(f"{what} {text!r} does not fit scale {scale}: {exc}") from None


def order_update(order: Mapping[str, Any], request: OrderRequest, receive_ts_ns: int) -> OrderUpdate:
    """A ccxt order structure (numbers as text) as an :class:`OrderUpdate` at the request's scales."""
    filled = _mantissa(order.get("filled"), request.size_scale, "filled size")
    unified = order.get("status")
    if unified == "open" or unified is None:
        status = OrderStatus.PARTIALLY_FILLED if 0 < filled < request.size else OrderStatus.NEW
        if filled == request.size:
            status = OrderStatus.FILLED
    elif unified in _STATUS:
        status = _STATUS[unified]
    else:
        raise OrderEntryError(f"order {request.client_order_id}: unknown status {unified!r}")
    if status is OrderStatus.CANCELED and filled == request.size:
        status = OrderStatus.FILLED  # a cancel that lost the race to the last fill
    timestamp_ms = order.get("lastUpdateTimestamp") or order.get("timestamp") or 0
    return OrderUpdate(
        status=status,
        filled_size=filled,
        exchange_order_id=str(order.get("id") or ""),
        exchange_ts_ns=int(timestamp_ms) * 1_000_000,
        receive_ts_ns=receive_ts_ns,
    )


class CcxtOrderEntry:
    """One account on one exchange: place, cancel, query orders and read fills, through ccxt."""

    def __init__(
        self,
        exchange: str,
        account: str,
        ccxt_id: str,
        config: Mapping[str, Any],
        *,
        retries: int = 3,
        budget: RequestBudget | None = None,
        on_budget_wait: Callable[[str, float], None] | None = None,
        fetch_by_client_order_id: Callable[[Any, str, str], Awaitable[dict[str, Any] | None]] | None = None,
    ) -> None:
        self.exchange = exchange
        self.account = account
        self.budget = budget  # None: calls go out unmetered (a test's own client)
        self._on_budget_wait = on_budget_wait  # (kind, seconds waited for the grant)
        self._client = getattr(ccxt_async, ccxt_id)(dict(config))
        self._client.number = str  # every number as the exchange's decimal text: exact, never a float
        self._retries = retries
        self._markets_loaded = False
        self._markets_lock = asyncio.Lock()  # orders placed at once load the markets (and spend their weight) once
        self._answered_fills: dict[str, dict[str, Fill]] = {}  # client order id → fills from the placement's answer
        self._fetch_by_client_order_id = fetch_by_client_order_id  # the venue's own lookup, where ccxt's cannot (Kraken)

    @classmethod
    def for_venue(
        cls, exchange: str, account: str, spec: OrderEntrySpec, rest_url: str, credentials: dict[str, str], *,
        budget: RequestBudget | None = None, on_budget_wait: Callable[[str, float], None] | None = None,
    ) -> CcxtOrderEntry:  # fmt: skip
        """The account's order entry at a venue, as its adapter's order-entry spec describes it."""
        config = spec.ccxt_config(rest_url, credentials)
        return cls(
            exchange, account, spec.ccxt_id, config, budget=budget, on_budget_wait=on_budget_wait,
            fetch_by_client_order_id=spec.fetch_by_client_order_id,
        )  # fmt: skip

    async def close(self) -> None:
        await self._client.close()

    async def signed_call(self, method: str, params: dict[str, Any]) -> Any:
        """One of ccxt's implicit private endpoints (``privatePostGetWebSocketsToken``) through this
        client: the account's one nonce sequence and signing (the private stream's REST needs)."""
        return await self._call("query", getattr(self._client, method), params)

    async def _markets(self) -> None:
        if self._markets_loaded:
            return
        async with self._markets_lock:  # a batch of concurrent first orders waits for the one load, not one each
            if not self._markets_loaded:
                await self._call("markets", self._client.load_markets)
                self._markets_loaded = True

    async def _call(self, kind: str, method: Any, *args: Any, **kwargs: Any) -> Any:
        """One request of ``kind`` (its cost in the budget), once the budget grants it; a rate refusal
        is told to the budget and becomes :class:`RateLimited` (with the wait the exchange asked for)."""
        if self.budget is not None:
            asked = time.monotonic()
            try:
                await self.budget.acquire(self.exchange, kind=kind, account=self.account)
            except SnapshotBudgetError as exc:  # unreachable or refusing: the daemon retries with backoff
                raise OrderEntryError(f"{self.exchange}: the request budget did not grant a {kind}: {exc}") from exc
            if self._on_budget_wait is not None:
                self._on_budget_wait(kind, time.monotonic() - asked)
        try:
            return await method(*args, **kwargs)
        except (RateLimitExceeded, DDoSProtection) as exc:
            retry_after, whole_exchange = self._retry_after(exc)
            if self.budget is not None:
                await self.budget.backoff(self.exchange, retry_after, "" if whole_exchange else self.account)
            raise RateLimited(f"{self.exchange}: {exc}", retry_after) from None
        except AuthenticationError as exc:
            raise OrderEntryError(f"{self.exchange} account {self.account}: authentication refused") from exc

    def _retry_after(self, error: Exception) -> tuple[float, bool]:
        """How long to wait, and whether the whole exchange must (the IP was refused, for weight or
        with a ban: those answers carry ``Retry-After``) or only this account (its order or endpoint
        count, answered without one)."""
        headers = getattr(self._client, "last_response_headers", None) or {}
        value = headers.get("Retry-After") or headers.get("retry-after")
        whole_exchange = value is not None
        try:
            return (max(1.0, float(value)) if value is not None else 1.0), whole_exchange
        except ValueError:
            return 1.0, whole_exchange

    # -- orders ------------------------------------------------------------------------------
    async def place(self, request: OrderRequest) -> OrderUpdate:
        """Send the order once. A refusal is a ``rejected`` update with the exchange's reason; an
        answer that never came is resolved by asking for the client order id (and sending only if
        the exchange has never heard of it)."""
        await self._markets()
        clock = _now_ns
        amount = format_fixed(request.size, request.size_scale)
        price = None if request.price is None else format_fixed(request.price, request.price_scale)
        params: dict[str, Any] = {"clientOrderId": request.client_order_id}
        if request.order_type is OrderType.LIMIT:
            params["timeInForce"] = request.time_in_force.value
        for attempt in range(self._retries + 1):
            try:
                order = await self._call(
                    "place", self._client.create_order, request.symbol, request.order_type.value, request.side.value,
                    amount, price, params,
                )  # fmt: skip
                update = order_update(order, request, clock())
                self._keep_fills(request, update.exchange_order_id, order.get("trades") or [])
                return update
            except (InsufficientFunds, InvalidOrder) as exc:
                return OrderUpdate(status=OrderStatus.REJECTED, filled_size=0, reason=str(exc)[:300], receive_ts_ns=clock())
            except (RequestTimeout, NetworkError, ExchangeNotAvailable) as exc:
                log.warning("order answer lost: asking the exchange", extra={"client_order_id": request.client_order_id,
                                                                             "exchange": self.exchange, "error": str(exc)[:200]})  # fmt: skip
                known = await self.query(request)
                if known is not None:
                    return known
                if attempt == self._retries:
                    raise OrderEntryError(f"{self.exchange}: order {request.client_order_id} not placed: {exc}") from exc
                await asyncio.sleep(0.2 * 2**attempt)
        raise AssertionError("unreachable")

    async def cancel(self, request: OrderRequest) -> OrderUpdate | None:
        """Cancel by client order id; the order's state after it, or None if the exchange does not know it."""
        await self._markets()
        try:
            order = await self._call(
                "cancel", self._client.cancel_order, None, request.symbol, {"clientOrderId": request.client_order_id}
            )
        except OrderNotFound:
            return await self.query(request)  # already over (filled, canceled) or never placed
        if order.get("status") is None:  # venues that answer a cancel with ids only (OKX): ask for the state
            return await self.query(request)
        return order_update(order, request, _now_ns())

    async def query(self, request: OrderRequest) -> OrderUpdate | None:
        """The order's state at the exchange by client order id, or None if it was never placed."""
        await self._markets()
        try:
            if self._fetch_by_client_order_id is not None:
                order = await self._call(
                    "query", self._fetch_by_client_order_id, self._client, request.symbol, request.client_order_id
                )
            else:
                order = await self._call(
                    "query", self._client.fetch_order, None, request.symbol, {"clientOrderId": request.client_order_id}
                )
        except OrderNotFound:
            return None
        return None if order is None else order_update(order, request, _now_ns())

    def _keep_fills(self, request: OrderRequest, exchange_order_id: str, trades: list[Mapping[str, Any]]) -> None:
        """Fills the placement's answer carried (Binance answers a market order with them): no
        further request is needed for them."""
        kept = self._answered_fills.setdefault(request.client_order_id, {})
        for trade in trades:
            if trade.get("id") is not None:
                fill = self._fill(trade, request, exchange_order_id)
                kept[fill.fill_id] = fill

    async def fills(self, request: OrderRequest, filled_size: int | None = None) -> list[Fill]:
        """The fills of one order, exact: those the placement's answer carried if they add up to
        ``filled_size``, else the account's trades in its symbol (one more request)."""
        answered = self._answered_fills.get(request.client_order_id, {})
        if filled_size is not None and answered and sum(f.size for f in answered.values()) >= filled_size:
            return list(answered.values())
        await self._markets()
        update = await self.query(request)
        if update is None or not update.exchange_order_id:
            return []
        trades = await self._call(
            "fills", self._client.fetch_my_trades, request.symbol, None, None, {"orderId": update.exchange_order_id}
        )
        return [
            self._fill(trade, request, update.exchange_order_id)
            for trade in trades
            if str(trade.get("order")) == update.exchange_order_id
        ]

    def _fill(self, trade: Mapping[str, Any], request: OrderRequest, exchange_order_id: str) -> Fill:
        fee = trade.get("fee") or {}
        fee_text = _text(fee.get("cost")) or "0"
        fee_mantissa, fee_scale = parse_decimal(fee_text)
        taker = trade.get("takerOrMaker")
        return Fill(
            fill_id=str(trade["id"]),
            client_order_id=request.client_order_id,
            exchange_order_id=exchange_order_id,
            account=self.account,
            exchange=self.exchange,
            symbol=request.symbol,
            side=Side(trade.get("side") or request.side.value),
            price=_mantissa(trade.get("price"), request.price_scale, "fill price"),
            size=_mantissa(trade.get("amount"), request.size_scale, "fill size"),
            price_scale=request.price_scale,
            size_scale=request.size_scale,
            fee=fee_mantissa,
            fee_scale=fee_scale,
            fee_asset=str(fee.get("currency") or ""),
            liquidity=Liquidity.MAKER if taker == "maker" else Liquidity.TAKER if taker == "taker" else Liquidity.UNKNOWN,
            exchange_ts_ns=int(trade.get("timestamp") or 0) * 1_000_000 or _now_ns(),
            receive_ts_ns=_now_ns(),
        )


def _now_ns() -> int:
    return time.time_ns()
