"""Signed REST endpoints of the simulated Binance: orders, open orders, account trades, account.

Each request is authenticated (``X-MBX-APIKEY``, HMAC-SHA256 signature,
timestamp within ``recvWindow``), new orders are counted against the account's
order limits, and the matching engine's refusals become Binance's error codes.
Every order request is recorded in the ground truth with its arrival time.
"""

from __future__ import annotations

import re
import secrets
import string
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from aiohttp import web

from platform_streams.simulator.binance import errors, order_json
from platform_streams.simulator.binance.auth import account_for_key, verify_signed_request
from platform_streams.simulator.binance.errors import BinanceError
from platform_streams.simulator.binance.http import json_response, read_params
from platform_streams.simulator.binance.params import RequestParams
from platform_streams.simulator.binance.rate_limits import RequestLimiter
from platform_streams.simulator.binance.streams import BinanceSymbols
from platform_streams.simulator.clock import SimClock
from platform_streams.simulator.faults.injector import ExchangeFaults
from platform_streams.simulator.ground_truth import GroundTruth, OrderArrival
from platform_streams.simulator.matching.accounts import Account, AccountRegistry
from platform_streams.simulator.matching.engine import MatchingEngine
from platform_streams.simulator.matching.filters import OrderRejected
from platform_streams.simulator.matching.orders import Order, OrderRequest, OrderSide, OrderType, TimeInForce

_CLIENT_ORDER_ID = re.compile(r"[.A-Z:/a-z0-9_-]{1,36}")
_ID_ALPHABET = string.ascii_letters + string.digits
_RESPONSE_TYPES = ("ACK", "RESULT", "FULL")


@dataclass(slots=True)
class _Outcome:
    """What became of an order request, for the ground truth."""

    account: str = ""
    order_id: int = -1
    error_code: int = 0


def generated_client_order_id() -> str:
    """A client order id like the ones Binance generates when none is sent."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(22))


class BinanceOrderRest:
    """Handlers of the TRADE and USER_DATA endpoints of one venue."""

    def __init__(
        self,
        engine: MatchingEngine,
        symbols: BinanceSymbols,
        accounts: AccountRegistry,
        limiter: RequestLimiter,
        ground_truth: GroundTruth,
        clock: SimClock,
        max_recv_window_ms: int,
        faults: ExchangeFaults,
    ) -> None:
        self._faults = faults
        self._engine = engine
        self._symbols = symbols
        self._accounts = accounts
        self._limiter = limiter
        self._ground_truth = ground_truth
        self._clock = clock
        self._max_recv_window_ms = max_recv_window_ms

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/api/v3/order", self.new_order),
            web.get("/api/v3/order", self.query_order),
            web.delete("/api/v3/order", self.cancel_order),
            web.get("/api/v3/openOrders", self.open_orders),
            web.delete("/api/v3/openOrders", self.cancel_open_orders),
            web.get("/api/v3/myTrades", self.my_trades),
            web.get("/api/v3/account", self.account),
        ]

    async def _signed(self, request: web.Request) -> tuple[Account, RequestParams]:
        params = await read_params(request)
        account = account_for_key(request.headers.get("X-MBX-APIKEY"), self._accounts)
        verify_signed_request(account, params, int(time.time() * 1000), self._max_recv_window_ms)
        return account, params

    def _instrument(self, params: RequestParams) -> int:
        instrument = self._symbols.lookup(params.required_text("symbol"))
        if instrument is None:
            raise errors.invalid_symbol()
        return instrument

    async def new_order(self, request: web.Request) -> web.Response:
        arrival_ns = time.time_ns()
        params = await read_params(request)
        outcome = _Outcome()
        try:
            return await self._new_order(request, outcome)
        except BinanceError as exc:
            outcome.error_code = exc.code
            raise
        finally:
            self._ground_truth.record_order(
                OrderArrival(
                    exchange="binance",
                    account=outcome.account,
                    symbol=params.text("symbol") or "",
                    side=params.text("side") or "",
                    order_type=params.text("type") or "",
                    client_order_id=params.text("newClientOrderId") or "",
                    order_id=outcome.order_id,
                    arrival_ns=arrival_ns,
                    error_code=outcome.error_code,
                )
            )

    async def _new_order(self, request: web.Request, outcome: _Outcome) -> web.Response:
        account, params = await self._signed(request)
        outcome.account = account.api_key
        instrument = self._instrument(params)
        order_request = self._order_request(instrument, params)
        response_type = params.text("newOrderRespType") or (
            "FULL" if order_request.order_type is not OrderType.LIMIT_MAKER else "ACK"
        )
        if response_type not in _RESPONSE_TYPES:
            raise BinanceError(
                -1100, "Illegal characters found in parameter 'newOrderRespType'; legal range is 'ACK, RESULT, FULL'."
            )
        headers = self._limiter.admit_order(account.api_key, time.time())
        if self._faults.refuses_order():  # a rate_limit fault: the order-count refusal, as past the real limit
            limits = self._limiter.limits
            message = f"Too many new orders; current limit is {limits.orders} orders per {limits.orders_interval_s} SECOND."
            raise BinanceError(-1015, message, 429, headers)
        try:
            order = self._engine.place(account, order_request)
        except OrderRejected as exc:
            raise errors.order_rejected(exc.reason) from None
        outcome.order_id = order.order_id
        body = order_json.new_order_response(
            order, self._engine.market.instruments[instrument], self._symbols.names[instrument], response_type
        )
        return json_response(body, headers)

    def _order_request(self, instrument: int, params: RequestParams) -> OrderRequest:
        side = _enum(OrderSide, params.required_text("side"), errors.invalid_side)
        order_type = _enum(OrderType, params.required_text("type"), errors.invalid_order_type)
        client_order_id = params.text("newClientOrderId") or generated_client_order_id()
        if _CLIENT_ORDER_ID.fullmatch(client_order_id) is None:
            raise BinanceError(
                -1100, "Illegal characters found in parameter 'newClientOrderId'; legal range is '^[\\.A-Z\\:/a-z0-9_-]{1,36}$'."
            )
        quantity, price, quote_quantity = params.decimal("quantity"), params.decimal("price"), params.decimal("quoteOrderQty")
        if order_type is OrderType.MARKET:
            if price is not None:
                raise BinanceError(-1106, "Parameter 'price' sent when not required.")
            if quantity is None and quote_quantity is None:
                raise BinanceError(-1102, "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!")
            time_in_force = TimeInForce.IOC
        else:
            if quantity is None:
                raise errors.mandatory_parameter("quantity")
            if price is None:
                raise errors.mandatory_parameter("price")
            tif_text = params.text("timeInForce")
            if order_type is OrderType.LIMIT and tif_text is None:
                raise errors.mandatory_parameter("timeInForce")
            time_in_force = _enum(TimeInForce, tif_text or "GTC", errors.invalid_time_in_force)
        return OrderRequest(
            instrument, side, order_type, time_in_force, quantity or 0, price or 0, quote_quantity or 0, client_order_id
        )

    def _find(self, account: Account, instrument: int, params: RequestParams) -> Order:
        order_id, client_id = params.integer("orderId"), params.text("origClientOrderId")
        if order_id is None and client_id is None:
            raise errors.either_order_id_or_client_id()
        return self._engine.find(account, instrument, order_id, client_id)

    async def query_order(self, request: web.Request) -> web.Response:
        account, params = await self._signed(request)
        instrument = self._instrument(params)
        try:
            order = self._find(account, instrument, params)
        except OrderRejected:
            raise errors.order_does_not_exist() from None
        return json_response(
            order_json.query_order_response(order, self._engine.market.instruments[instrument], self._symbols.names[instrument])
        )

    async def cancel_order(self, request: web.Request) -> web.Response:
        account, params = await self._signed(request)
        instrument = self._instrument(params)
        order_id, client_id = params.integer("orderId"), params.text("origClientOrderId")
        if order_id is None and client_id is None:
            raise errors.either_order_id_or_client_id()
        cancel_id = params.text("newClientOrderId") or generated_client_order_id()
        try:
            order = self._engine.cancel(account, instrument, order_id, client_id, cancel_id)
        except OrderRejected:
            raise errors.unknown_order_on_cancel() from None
        spec, symbol = self._engine.market.instruments[instrument], self._symbols.names[instrument]
        return json_response(order_json.cancel_order_response(order, spec, symbol, cancel_id, self._clock.now_ms))

    async def cancel_open_orders(self, request: web.Request) -> web.Response:
        account, params = await self._signed(request)
        instrument = self._instrument(params)
        spec, symbol = self._engine.market.instruments[instrument], self._symbols.names[instrument]
        canceled = []
        for order in self._engine.open_orders(account, instrument):
            cancel_id = generated_client_order_id()
            self._engine.cancel(account, instrument, order.order_id, None, cancel_id)
            canceled.append(order_json.cancel_order_response(order, spec, symbol, cancel_id, self._clock.now_ms))
        if not canceled:
            raise errors.unknown_order_on_cancel()
        return json_response(canceled)

    async def open_orders(self, request: web.Request) -> web.Response:
        account, params = await self._signed(request)
        instrument = self._instrument(params) if params.text("symbol") else None
        specs = self._engine.market.instruments
        body = [
            order_json.query_order_response(o, specs[o.instrument], self._symbols.names[o.instrument])
            for o in self._engine.open_orders(account, instrument)
        ]
        return json_response(body)

    async def my_trades(self, request: web.Request) -> web.Response:
        account, params = await self._signed(request)
        instrument = self._instrument(params)
        order_id, from_id = params.integer("orderId"), params.integer("fromId")
        start, end = params.integer("startTime"), params.integer("endTime")
        limit = min(params.integer("limit") or 500, 1000)
        fills = [
            f
            for f in self._engine.account_fills(account, instrument)
            if (order_id is None or f.order_id == order_id)
            and (from_id is None or f.trade_id >= from_id)
            and (start is None or f.time_ms >= start)
            and (end is None or f.time_ms <= end)
        ]
        fills = fills[:limit] if from_id is not None or start is not None else fills[-limit:]
        spec, symbol = self._engine.market.instruments[instrument], self._symbols.names[instrument]
        return json_response([order_json.account_trade(f, spec, symbol) for f in fills])

    async def account(self, request: web.Request) -> web.Response:
        account, _ = await self._signed(request)
        return json_response(order_json.account_information(account))


EnumT = TypeVar("EnumT", OrderSide, OrderType, TimeInForce)


def _enum(kind: type[EnumT], text: str, error: Callable[[], BinanceError]) -> EnumT:
    try:
        return kind(text)
    except ValueError:
        raise error() from None
