"""Signed OKX v5 trading REST: place, cancel and query orders, pending orders, fills, the account balance.

Each request is authenticated (``auth.py``), counted against OKX's per-account and
per-instrument limits (50011 with HTTP 429 past them, no ``Retry-After``: OKX sends
none), and the matching engine's refusals become OKX's per-order ``sCode``/``sMsg``
inside a ``"code":"1"`` envelope. Every order request is recorded in the ground
truth with its arrival time. ``clOrdId`` is unique among an account's pending
orders of an instrument (51016), and a query by ``clOrdId`` finds the latest order
that used it, as on OKX.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from platform_streams.schemas.fixed_point import FixedPointError, parse_decimal, rescale
from platform_streams.simulator.clock import SimClock
from platform_streams.simulator.config import OkxRestLimits
from platform_streams.simulator.faults.injector import ExchangeFaults
from platform_streams.simulator.ground_truth import GroundTruth, OrderArrival
from platform_streams.simulator.market.universe import PRICE_SCALE
from platform_streams.simulator.matching.accounts import Account, AccountRegistry
from platform_streams.simulator.matching.engine import MatchingEngine
from platform_streams.simulator.matching.filters import OrderRejected
from platform_streams.simulator.matching.orders import Order, OrderRequest, OrderSide, OrderType, TimeInForce
from platform_streams.simulator.okx import errors, order_json
from platform_streams.simulator.okx.auth import authenticate_rest
from platform_streams.simulator.okx.errors import OkxOrderFailure, OkxRestError
from platform_streams.simulator.okx.instruments import OkxInstruments
from platform_streams.simulator.okx.rest import envelope
from platform_streams.simulator.rate_windows import FixedWindowCounter

_CLIENT_ORDER_ID = re.compile(r"[A-Za-z0-9]{1,32}")
_TAG = re.compile(r"[A-Za-z0-9]{0,16}")
_DECIMAL = re.compile(r"[0-9]{1,20}(\.[0-9]{1,20})?")
_ORDER_TYPES = {
    "market": (OrderType.MARKET, TimeInForce.IOC),
    "limit": (OrderType.LIMIT, TimeInForce.GTC),
    "post_only": (OrderType.LIMIT_MAKER, TimeInForce.GTC),
    "ioc": (OrderType.LIMIT, TimeInForce.IOC),
    "fok": (OrderType.LIMIT, TimeInForce.FOK),
}
_MAX_PAGE = 100
_MAX_BATCH = 20
_RATE_LIMITED = "50011"
Handler = Callable[[web.Request, Account, Any], Awaitable[web.Response]]


@dataclass(frozen=True, slots=True)
class _Route:
    method: str
    path: str
    limit: str  # which counter: "orders", "fills_history", "account"; "" for order entry (counted per order)
    per_instrument: bool


def _now_text() -> str:
    return str(time.time_ns() // 1_000_000)


def order_failure(failure: OkxOrderFailure, client_order_id: str, tag: str, order_id: str = "") -> web.Response:
    """The ``"code":"1"`` envelope of a refused cancel, HTTP 200 as OKX answers it."""
    entry = {
        "clOrdId": client_order_id,
        "ordId": order_id,
        "sCode": failure.s_code,
        "sMsg": failure.s_msg,
        "tag": tag,
        "ts": _now_text(),
    }
    return envelope([entry], "1", "All operations failed")


class OkxOrderRest:
    """Handlers of the private trading and account endpoints of one venue."""

    def __init__(
        self,
        engine: MatchingEngine,
        instruments: OkxInstruments,
        accounts: AccountRegistry,
        ground_truth: GroundTruth,
        clock: SimClock,
        limits: OkxRestLimits,
        faults: ExchangeFaults,
    ) -> None:
        self._engine = engine
        self._instruments = instruments
        self._accounts = accounts
        self._ground_truth = ground_truth
        self._clock = clock
        self._limits = limits
        self._faults = faults
        self._counters = {
            "orders": FixedWindowCounter(limits.orders, limits.interval_s),
            "fills_history": FixedWindowCounter(limits.fills_history, limits.interval_s),
            "account": FixedWindowCounter(limits.account, limits.interval_s),
        }

    def routes(self) -> list[web.RouteDef]:
        table: list[tuple[_Route, Handler]] = [
            (_Route("POST", "/api/v5/trade/order", "", False), self.place_order),  # counted per order, per instrument
            (_Route("POST", "/api/v5/trade/batch-orders", "", False), self.place_orders),
            (_Route("POST", "/api/v5/trade/cancel-order", "orders", True), self.cancel_order),
            (_Route("GET", "/api/v5/trade/order", "orders", True), self.query_order),
            (_Route("GET", "/api/v5/trade/orders-pending", "orders", False), self.pending_orders),
            (_Route("GET", "/api/v5/trade/fills", "orders", False), self.fills),
            (_Route("GET", "/api/v5/trade/fills-history", "fills_history", False), self.fills),
            (_Route("GET", "/api/v5/account/balance", "account", False), self.balance),
        ]
        return [web.route(route.method, route.path, self._signed(route, handler)) for route, handler in table]

    def _signed(self, route: _Route, handler: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def signed(request: web.Request) -> web.Response:
            body = await request.text() if request.can_read_body else ""
            try:
                account = authenticate_rest(
                    request.headers,
                    request.method,
                    request.raw_path,
                    body,
                    self._accounts,
                    time.time(),
                    self._limits.max_timestamp_skew_s,
                )
                params = self._params(request, body)
                if isinstance(params, list) != route.path.endswith("batch-orders"):
                    raise OkxRestError("50002", "Json data format error.")
                if route.limit:
                    instrument_key = str(params.get("instId", "")) if route.per_instrument else ""
                    counter = self._counters[route.limit]
                    if counter.add(f"{account.api_key}/{route.path}/{instrument_key}", 1, time.time()) > counter.limit:
                        raise errors.rate_limited()
                return await handler(request, account, params)
            except OkxRestError as exc:
                return envelope([], exc.code, exc.msg, exc.status)

        return signed

    @staticmethod
    def _params(request: web.Request, body: str) -> Any:
        """The query (GET) or the JSON body: an object, or an array for the batch endpoints."""
        if request.method == "GET":
            return dict(request.query)
        try:
            params = orjson.loads(body) if body else {}
        except orjson.JSONDecodeError:
            raise OkxRestError("50002", "Json data format error.") from None
        if not isinstance(params, dict | list):
            raise OkxRestError("50002", "Json data format error.")
        return params

    def _instrument(self, params: dict[str, Any]) -> int:
        inst_id = params.get("instId")
        if not inst_id:
            raise errors.empty_parameter("instId")
        instrument = self._instruments.lookup(str(inst_id))
        if instrument is None:
            raise errors.unknown_instrument()
        return instrument

    # orders ------------------------------------------------------------------

    async def place_order(self, request: web.Request, account: Account, params: Any) -> web.Response:
        if not isinstance(params, dict):
            raise OkxRestError("50002", "Json data format error.")
        entry = self._place_one(account, params, time.time_ns(), in_batch=False)
        return envelope([entry]) if entry["sCode"] == "0" else envelope([entry], "1", "All operations failed")

    async def place_orders(self, request: web.Request, account: Account, params: Any) -> web.Response:
        """``batch-orders``: up to 20 orders, each answered on its own; ``"2"`` when only some were placed."""
        if not isinstance(params, list) or not params or not all(isinstance(p, dict) for p in params):
            raise OkxRestError("50002", "Json data format error.")
        if len(params) > _MAX_BATCH:
            raise OkxRestError("51000", "Parameter orders error")
        arrival_ns = time.time_ns()
        entries = [self._place_one(account, p, arrival_ns, in_batch=True) for p in params]
        if all(e["sCode"] == _RATE_LIMITED for e in entries):
            raise errors.rate_limited()
        placed = sum(1 for e in entries if e["sCode"] == "0")
        if placed == len(entries):
            return envelope(entries)
        return (
            envelope(entries, "2", "Bulk operation partially succeeded")
            if placed
            else envelope(entries, "1", "All operations failed")
        )

    def _place_one(self, account: Account, params: dict[str, Any], arrival_ns: int, in_batch: bool) -> dict[str, object]:
        """Place one order and return its ``data`` entry (``sCode`` "0" when placed); recorded in the ground truth.

        A malformed request refuses the whole call (the envelope's code); in a batch, a rate-limited
        order is refused on its own (sCode 50011)."""
        client_order_id, tag = str(params.get("clOrdId") or ""), str(params.get("tag") or "")
        order_id, s_code, s_msg = -1, "0", "Order placed"
        try:
            instrument = self._instrument(params)
            order_request = self._order_request(instrument, params, client_order_id, tag)
            counter = self._counters["orders"]
            over_limit = counter.add(f"{account.api_key}/place/{instrument}", 1, time.time()) > counter.limit
            if over_limit or self._faults.refuses_order():
                raise errors.rate_limited()
            try:
                order = self._engine.place(account, order_request)
            except OrderRejected as exc:
                spec = self._engine.market.instruments[instrument]
                raise errors.order_rejected(
                    exc.reason, spec.quote if order_request.side is OrderSide.BUY else spec.base
                ) from None
            order_id = order.order_id
        except OkxOrderFailure as failure:
            s_code, s_msg = failure.s_code, failure.s_msg
        except OkxRestError as exc:
            s_code, s_msg = exc.code, exc.msg
            if not (in_batch and exc.code == _RATE_LIMITED):
                self._record(account, params, client_order_id, order_id, arrival_ns, s_code)
                raise
        self._record(account, params, client_order_id, order_id, arrival_ns, s_code)
        return {
            "clOrdId": client_order_id,
            "ordId": str(order_id) if order_id >= 0 else "",
            "sCode": s_code,
            "sMsg": s_msg,
            "tag": tag,
            "ts": _now_text(),
        }

    def _record(
        self, account: Account, params: dict[str, Any], client_order_id: str, order_id: int, arrival_ns: int, code: str
    ) -> None:
        self._ground_truth.record_order(
            OrderArrival(
                exchange="okx",
                account=account.api_key,
                symbol=str(params.get("instId") or ""),
                side=str(params.get("side") or ""),
                order_type=str(params.get("ordType") or ""),
                client_order_id=client_order_id,
                order_id=order_id,
                arrival_ns=arrival_ns,
                error_code=int(code),
            )
        )

    def _order_request(self, instrument: int, params: dict[str, Any], client_order_id: str, tag: str) -> OrderRequest:
        td_mode = params.get("tdMode")
        if not td_mode:
            raise errors.empty_parameter("tdMode")
        if td_mode != "cash":
            raise errors.parameter_error("tdMode")  # spot margin is not simulated
        side_text, type_text = params.get("side"), params.get("ordType")
        if not side_text:
            raise errors.empty_parameter("side")
        if side_text not in ("buy", "sell"):
            raise errors.parameter_error("side")
        if not type_text:
            raise errors.empty_parameter("ordType")
        if type_text not in _ORDER_TYPES:
            raise errors.parameter_error("ordType")
        if client_order_id and _CLIENT_ORDER_ID.fullmatch(client_order_id) is None:
            raise errors.parameter_error("clOrdId")
        if _TAG.fullmatch(tag) is None:
            raise errors.parameter_error("tag")
        side = OrderSide.BUY if side_text == "buy" else OrderSide.SELL
        order_type, time_in_force = _ORDER_TYPES[type_text]
        size = _decimal(params, "sz")
        if size is None:
            raise errors.empty_parameter("sz")
        price, quote_quantity = 0, 0
        if order_type is OrderType.MARKET:
            # a spot market buy is sized in the quote currency unless tgtCcy says base_ccy, a sell in the base
            target = params.get("tgtCcy") or ("quote_ccy" if side is OrderSide.BUY else "base_ccy")
            if target not in ("base_ccy", "quote_ccy"):
                raise errors.parameter_error("tgtCcy")
            if target == "quote_ccy":
                size, quote_quantity = 0, size
        else:
            found = _decimal(params, "px")
            if found is None:
                raise errors.empty_parameter("px")
            price = found
        return OrderRequest(instrument, side, order_type, time_in_force, size, price, quote_quantity, client_order_id, tag)

    async def cancel_order(self, request: web.Request, account: Account, params: dict[str, Any]) -> web.Response:
        instrument = self._instrument(params)
        order_id, client_order_id = _order_ids(params)
        try:
            order = self._engine.cancel(account, instrument, order_id, client_order_id)
        except OrderRejected:
            return order_failure(errors.cancel_failed(), client_order_id or "", "", str(order_id or ""))
        entry = {"clOrdId": order.client_order_id, "ordId": str(order.order_id), "sCode": "0", "sMsg": "", "ts": _now_text()}
        return envelope([entry])

    async def query_order(self, request: web.Request, account: Account, params: dict[str, Any]) -> web.Response:
        instrument = self._instrument(params)
        order_id, client_order_id = _order_ids(params)
        try:
            order = self._engine.find(account, instrument, order_id, client_order_id)
        except OrderRejected:
            raise errors.order_does_not_exist() from None
        return envelope([self._entry(order)])

    async def pending_orders(self, request: web.Request, account: Account, params: dict[str, Any]) -> web.Response:
        instrument = self._instrument(params) if params.get("instId") else None
        wanted_type, wanted_state = params.get("ordType"), params.get("state")
        orders = [
            o
            for o in reversed(self._engine.open_orders(account, instrument))  # newest first, as OKX lists them
            if (not wanted_type or order_json.okx_order_type(o) in wanted_type.split(","))
            and (not wanted_state or order_json.order_entry(o, self._spec(o), "", "")["state"] == wanted_state)
        ]
        return envelope([self._entry(o) for o in orders[: _limit(params)]])

    def _entry(self, order: Order) -> dict[str, object]:
        return order_json.order_entry(order, self._spec(order), self._instruments.names[order.instrument], order.tag)

    def _spec(self, order: Order) -> Any:
        return self._engine.market.instruments[order.instrument]

    # fills and balance -------------------------------------------------------

    async def fills(self, request: web.Request, account: Account, params: dict[str, Any]) -> web.Response:
        if request.path.endswith("fills-history") and not params.get("instType"):
            raise errors.empty_parameter("instType")
        if params.get("instType") not in (None, "", "SPOT"):
            return envelope([])
        instrument = self._instrument(params) if params.get("instId") else None
        order_id = _integer(params, "ordId")
        begin, end = _integer(params, "begin"), _integer(params, "end")
        after, before = _integer(params, "after"), _integer(params, "before")  # bill ids: older than / newer than
        specs, names = self._engine.market.instruments, self._instruments.names
        rows = []
        for fill in reversed(self._engine.all_fills(account, instrument)):  # newest first
            bill = int(order_json.bill_id(fill))
            if (
                (order_id is not None and fill.order_id != order_id)
                or (begin is not None and fill.time_ms < begin)
                or (end is not None and fill.time_ms > end)
                or (after is not None and bill >= after)
                or (before is not None and bill <= before)
            ):
                continue
            order = self._engine.find(account, fill.instrument, fill.order_id, None)
            rows.append(
                order_json.fill_entry(fill, specs[fill.instrument], names[fill.instrument], order.client_order_id, order.tag)
            )
            if len(rows) == _limit(params):
                break
        return envelope(rows)

    async def balance(self, request: web.Request, account: Account, params: dict[str, Any]) -> web.Response:
        currencies = set(params["ccy"].split(",")) if params.get("ccy") else None
        return envelope([order_json.balance(account, currencies, self._clock.now_ms)])


def _decimal(params: dict[str, Any], name: str) -> int | None:
    """A decimal parameter as a mantissa at scale 8; 51000 when it is not a plain positive decimal."""
    value = params.get(name)
    if value is None or value == "":
        return None
    text = str(value)
    if _DECIMAL.fullmatch(text) is None:
        raise errors.parameter_error(name)
    try:
        mantissa, scale = parse_decimal(text)
        return rescale(mantissa, scale, PRICE_SCALE)
    except FixedPointError:
        raise errors.parameter_error(name) from None


def _integer(params: dict[str, Any], name: str) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if not str(value).isdigit():
        raise errors.parameter_error(name)
    return int(value)


def _order_ids(params: dict[str, Any]) -> tuple[int | None, str | None]:
    """``(ordId, clOrdId)``; ordId wins when both are sent, as on OKX."""
    order_id, client_order_id = _integer(params, "ordId"), params.get("clOrdId") or None
    if order_id is None and client_order_id is None:
        raise errors.empty_parameter("ordId or clOrdId")
    return order_id, None if order_id is not None else str(client_order_id)


def _limit(params: dict[str, Any]) -> int:
    limit = _integer(params, "limit")
    return _MAX_PAGE if limit is None else max(1, min(limit, _MAX_PAGE))
