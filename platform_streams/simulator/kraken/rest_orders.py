"""Kraken private REST: AddOrder, CancelOrder, QueryOrders, OpenOrders, ClosedOrders, TradesHistory, Balance,
BalanceEx and GetWebSocketsToken, over the matching engine.

Calls are POSTs with a form body (or JSON), authenticated by ``auth.py``; errors are
Kraken's strings with HTTP 200. Order entry counts against the account's per-pair order
rate counter, the other calls against its API counter (``rate_limits.py``). ``cl_ord_id``
is unique among an account's open orders of a pair; ``userref`` is a free integer tag.
Both can select orders in QueryOrders, OpenOrders, ClosedOrders and CancelOrder, so an
order can be found by the id its client chose. Every AddOrder is recorded in the
ground truth.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl

import orjson
from aiohttp import web

from platform_streams.schemas.fixed_point import FixedPointError, parse_decimal, rescale
from platform_streams.simulator.clock import SimClock
from platform_streams.simulator.config import KrakenRestLimits
from platform_streams.simulator.faults.injector import ExchangeFaults
from platform_streams.simulator.ground_truth import GroundTruth, OrderArrival
from platform_streams.simulator.kraken import errors, order_json
from platform_streams.simulator.kraken.auth import NonceKeeper, authenticate
from platform_streams.simulator.kraken.pairs import KrakenPairs
from platform_streams.simulator.kraken.rate_limits import DecayingCounter, cancel_penalty
from platform_streams.simulator.kraken.rest import KrakenRestError, error_body, result
from platform_streams.simulator.market.universe import PRICE_SCALE
from platform_streams.simulator.matching.accounts import Account, AccountRegistry
from platform_streams.simulator.matching.engine import MatchingEngine
from platform_streams.simulator.matching.filters import OrderRejected
from platform_streams.simulator.matching.orders import Order, OrderRequest, OrderSide, OrderType, TimeInForce

_DECIMAL = re.compile(r"[0-9]{1,20}(\.[0-9]{1,20})?")
_CLIENT_ORDER_ID = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32}|[!-~]{1,18}"
)
_OFLAGS = frozenset({"post", "fcib", "fciq", "nompp", "viqc"})
_TIME_IN_FORCE = {"GTC": TimeInForce.GTC, "IOC": TimeInForce.IOC}
_INT32 = 2**31
_HISTORY_CALLS = ("TradesHistory", "ClosedOrders")
_PAGE = 50
Params = dict[str, str]
Handler = Callable[[Account, Params], Awaitable[object]]


class KrakenOrderRest:
    """Handlers of the private endpoints of one venue."""

    def __init__(
        self,
        engine: MatchingEngine,
        pairs: KrakenPairs,
        accounts: AccountRegistry,
        ground_truth: GroundTruth,
        clock: SimClock,
        limits: KrakenRestLimits,
        faults: ExchangeFaults,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._pairs = pairs
        self._accounts = accounts
        self._ground_truth = ground_truth
        self._limits = limits
        self._faults = faults
        self._nonces = NonceKeeper()
        self._api_counter = DecayingCounter(limits.api_counter_max, limits.api_counter_decay_per_s)
        self._order_counter = DecayingCounter(limits.order_counter_max, limits.order_counter_decay_per_s)
        self.tokens: dict[str, tuple[str, float]] = {}  # WebSocket token → (API key, expiry on the monotonic clock)

    def routes(self) -> list[web.RouteDef]:
        handlers: dict[str, Handler] = {
            "AddOrder": self.add_order,
            "CancelOrder": self.cancel_order,
            "QueryOrders": self.query_orders,
            "OpenOrders": self.open_orders,
            "ClosedOrders": self.closed_orders,
            "TradesHistory": self.trades_history,
            "Balance": self.balance,
            "BalanceEx": self.balance_ex,
            "GetWebSocketsToken": self.websockets_token,
        }
        return [web.post(f"/0/private/{name}", self._private(name, handler)) for name, handler in handlers.items()]

    def _private(self, name: str, handler: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
        trading = name in ("AddOrder", "CancelOrder")

        async def private(request: web.Request) -> web.Response:
            body = await request.text()
            try:
                params = _params(request.content_type, body)
                account = authenticate(request.headers, request.path, params.get("nonce", ""), body, self._accounts, self._nonces)
                cost = 2 if name in _HISTORY_CALLS else 1
                if not trading and not self._api_counter.try_add(account.api_key, cost, time.monotonic()):
                    raise KrakenRestError(errors.API_RATE_LIMIT)
                return result(await handler(account, params))
            except KrakenRestError as exc:
                return error_body(exc.message, exc.status)

        return private

    def _instrument(self, params: Params) -> int:
        name = params.get("pair")
        if not name:
            raise errors.invalid_argument("pair")
        instrument = self._pairs.by_any_name(name)
        if instrument is None:
            raise KrakenRestError(errors.UNKNOWN_PAIR)
        return instrument

    # orders ----------------------------------------------------------------------

    async def add_order(self, account: Account, params: Params) -> object:
        arrival_ns = time.time_ns()
        order_id, error = -1, ""
        try:
            instrument = self._instrument(params)
            order_request = self._order_request(instrument, params)
            description = self._description(instrument, params)
            if params.get("validate") in ("true", "1"):
                return {"descr": {"order": description}}
            if self._faults.refuses_order() or not self._order_counter.try_add(
                f"{account.api_key}/{instrument}", 1, time.monotonic()
            ):
                raise KrakenRestError(errors.ORDER_RATE_LIMIT)
            try:
                order = self._engine.place(account, order_request)
            except OrderRejected as exc:
                raise errors.order_rejected(exc.reason) from None
            order_id = order.order_id
            return {"descr": {"order": description}, "txid": [order_json.order_txid(order_id)]}
        except KrakenRestError as exc:
            error = exc.message
            raise
        finally:
            self._ground_truth.record_order(
                OrderArrival(
                    exchange="kraken",
                    account=account.api_key,
                    symbol=params.get("pair", ""),
                    side=params.get("type", ""),
                    order_type=params.get("ordertype", ""),
                    client_order_id=params.get("cl_ord_id") or params.get("userref", ""),
                    order_id=order_id,
                    arrival_ns=arrival_ns,
                    error_code=1 if error else 0,
                    error=error,
                )
            )

    def _order_request(self, instrument: int, params: Params) -> OrderRequest:
        """The engine request of an AddOrder; its ``userref`` travels as the order's tag."""
        side_text, type_text = params.get("type"), params.get("ordertype")
        if side_text not in ("buy", "sell"):
            raise errors.invalid_argument("type")
        if type_text not in ("market", "limit"):
            raise errors.invalid_argument("ordertype")
        oflags = set(params["oflags"].split(",")) if params.get("oflags") else set()
        if not oflags <= _OFLAGS:
            raise errors.invalid_argument("oflags")
        time_in_force = _TIME_IN_FORCE.get(params.get("timeinforce", "GTC"))
        if time_in_force is None:
            raise errors.invalid_argument("timeinforce")
        userref = _integer(params, "userref", -_INT32, _INT32 - 1)
        client_order_id = params.get("cl_ord_id", "")
        if client_order_id and (_CLIENT_ORDER_ID.fullmatch(client_order_id) is None or userref):
            raise errors.invalid_argument("cl_ord_id")
        side = OrderSide.BUY if side_text == "buy" else OrderSide.SELL
        volume = _decimal(params, "volume")
        if volume is None:
            raise errors.invalid_argument("volume")
        if type_text == "market":
            by_quote = "viqc" in oflags and side is OrderSide.BUY
            request = OrderRequest(
                instrument,
                side,
                OrderType.MARKET,
                TimeInForce.IOC,
                0 if by_quote else volume,
                0,
                volume if by_quote else 0,
                client_order_id,
                str(userref),
                fee_from_spent(side, oflags),
            )
            return request
        price = _decimal(params, "price")
        if price is None:
            raise errors.invalid_argument("price")
        order_type = OrderType.LIMIT_MAKER if "post" in oflags else OrderType.LIMIT
        return OrderRequest(
            instrument,
            side,
            order_type,
            time_in_force,
            volume,
            price,
            0,
            client_order_id,
            str(userref),
            fee_from_spent(side, oflags),
        )

    def _description(self, instrument: int, params: Params) -> str:
        pair = self._pairs.pairs[instrument]
        price = f"limit {params.get('price')}" if params.get("ordertype") == "limit" else "market"
        return f"{params.get('type')} {params.get('volume')} {pair.altname} @ {price}"

    def _selected(self, account: Account, params: Params, wanted: Callable[[Order], bool]) -> list[Order]:
        """The account's orders passing ``wanted`` and the ``txid`` / ``userref`` / ``cl_ord_id`` selectors sent."""
        userref = _integer(params, "userref", -_INT32, _INT32 - 1) if params.get("userref") else None
        client_order_id = params.get("cl_ord_id")
        return [
            o
            for o in self._engine.orders_of(account)
            if wanted(o)
            and (userref is None or userref_of(o) == userref)
            and (client_order_id is None or o.client_order_id == client_order_id)
        ]

    async def cancel_order(self, account: Account, params: Params) -> object:
        """Cancel by ``txid`` (an order txid, or a userref), or by ``cl_ord_id``; every matching open order."""
        reference, client_order_id = params.get("txid", ""), params.get("cl_ord_id")
        if not reference and not client_order_id:
            raise errors.invalid_argument("txid")
        order_id = order_json.order_id_of(reference) if reference else None
        if reference and order_id is None and not reference.lstrip("-").isdigit():
            raise KrakenRestError(errors.UNKNOWN_ORDER)
        open_orders = self._engine.open_orders(account, None)
        if client_order_id:
            targets = [o for o in open_orders if o.client_order_id == client_order_id]
        elif order_id is not None:
            targets = [o for o in open_orders if o.order_id == order_id]
        else:
            targets = [o for o in open_orders if userref_of(o) == int(reference)]
        if not targets:
            raise KrakenRestError(errors.UNKNOWN_ORDER)
        now = time.monotonic()
        for order in targets:
            age_s = (self._clock.now_ms - order.created_ms) / 1000
            self._order_counter.add(f"{account.api_key}/{order.instrument}", cancel_penalty(age_s), now)
            self._engine.cancel(account, order.instrument, order.order_id, None)
        return {"count": len(targets)}

    async def query_orders(self, account: Account, params: Params) -> object:
        txids = [t for t in params.get("txid", "").split(",") if t]
        if not txids and not params.get("userref") and not params.get("cl_ord_id"):
            raise errors.invalid_argument("txid")
        if len(txids) > _PAGE:
            raise errors.invalid_argument("txid")
        wanted_ids = set()
        for txid in txids:
            order_id = order_json.order_id_of(txid)
            if order_id is None:
                raise KrakenRestError(errors.INVALID_ORDER)
            wanted_ids.add(order_id)
        orders = self._selected(account, params, lambda o: not wanted_ids or o.order_id in wanted_ids)
        if wanted_ids and len(orders) != len(wanted_ids):
            raise KrakenRestError(errors.INVALID_ORDER)
        return self._infos(orders, params)

    async def open_orders(self, account: Account, params: Params) -> object:
        return {"open": self._infos(self._selected(account, params, lambda o: o.status.is_open), params)}

    async def closed_orders(self, account: Account, params: Params) -> object:
        closed = self._selected(account, params, lambda o: not o.status.is_open)
        offset = _integer(params, "ofs", 0, 1 << 62)
        newest_first = list(reversed(closed))
        return {"closed": self._infos(newest_first[offset : offset + _PAGE], params), "count": len(closed)}

    def _infos(self, orders: list[Order], params: Params) -> dict[str, object]:
        with_trades = params.get("trades") in ("true", "1", "True")
        specs = self._engine.market.instruments
        return {
            order_json.order_txid(o.order_id): order_json.order_info(
                o, specs[o.instrument], self._pairs.pairs[o.instrument], userref_of(o), with_trades
            )
            for o in orders
        }

    # trades, balances, token -------------------------------------------------------

    async def trades_history(self, account: Account, params: Params) -> object:
        start, end = _seconds(params, "start"), _seconds(params, "end")
        fills = [
            f
            for f in reversed(self._engine.all_fills(account))  # newest first
            if (start is None or f.time_ms > start) and (end is None or f.time_ms <= end)
        ]
        offset = _integer(params, "ofs", 0, 1 << 62)
        specs, pairs = self._engine.market.instruments, self._pairs.pairs
        trades = {}
        for fill in fills[offset : offset + _PAGE]:
            order = self._engine.find(account, fill.instrument, fill.order_id, None)
            trades[order_json.trade_txid(fill)] = order_json.trade_info(
                fill, order, specs[fill.instrument], pairs[fill.instrument]
            )
        return {"trades": trades, "count": len(fills)}

    async def balance(self, account: Account, params: Params) -> object:
        return order_json.balances(account)

    async def balance_ex(self, account: Account, params: Params) -> object:
        return order_json.extended_balances(account)

    async def websockets_token(self, account: Account, params: Params) -> object:
        ttl = self._limits.websocket_token_ttl_s
        now = time.monotonic()
        self.tokens = {t: entry for t, entry in self.tokens.items() if entry[1] > now}
        token = secrets.token_urlsafe(30)
        self.tokens[token] = (account.api_key, now + ttl)
        return {"token": token, "expires": int(ttl)}

    def account_of_token(self, token: str) -> str | None:
        """The API key a WebSocket token was issued to, None if unknown or expired."""
        entry = self.tokens.get(token)
        return entry[0] if entry is not None and entry[1] > time.monotonic() else None


def fee_from_spent(side: OrderSide, oflags: set[str]) -> bool:
    """Kraken charges the fee in the quote currency unless ``fcib`` asks for the base: on a buy that is the asset
    given up, on a sell the one received."""
    return (side is OrderSide.BUY) != ("fcib" in oflags)


def userref_of(order: Order) -> int:
    return int(order.tag or 0)


def _params(content_type: str, body: str) -> Params:
    if content_type == "application/json":
        try:
            decoded = orjson.loads(body) if body else {}
        except orjson.JSONDecodeError:
            raise KrakenRestError(errors.INVALID_ARGUMENTS) from None
        if not isinstance(decoded, dict):
            raise KrakenRestError(errors.INVALID_ARGUMENTS)
        return {k: v if isinstance(v, str) else orjson.dumps(v).decode() for k, v in decoded.items()}
    return dict(parse_qsl(body, keep_blank_values=True))


def _decimal(params: Params, name: str) -> int | None:
    text = params.get(name)
    if not text:
        return None
    if _DECIMAL.fullmatch(text) is None:
        raise errors.invalid_argument(name)
    try:
        mantissa, scale = parse_decimal(text)
        return rescale(mantissa, scale, PRICE_SCALE)
    except FixedPointError:
        raise errors.invalid_argument(name) from None


def _integer(params: Params, name: str, low: int, high: int) -> int:
    text = params.get(name)
    if not text:
        return 0
    if not text.lstrip("-").isdigit() or not low <= int(text) <= high:
        raise errors.invalid_argument(name)
    return int(text)


def _seconds(params: Params, name: str) -> int | None:
    """A ``start`` / ``end`` in seconds (decimals allowed) as milliseconds."""
    text = params.get(name)
    if not text:
        return None
    if _DECIMAL.fullmatch(text) is None:
        raise errors.invalid_argument(name)
    mantissa, scale = parse_decimal(text)
    return rescale(mantissa, scale, 3) if scale <= 3 else mantissa // 10 ** (scale - 3)
