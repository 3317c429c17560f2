"""Kraken's authenticated WebSocket v2 (``wss://ws-auth.kraken.com/v2``, here ``/auth/v2``): the ``executions``
channel, which is what ccxt.pro's ``watch_orders`` / ``watch_my_trades`` use.

A client gets a token from ``GetWebSocketsToken`` and subscribes with
``{"method":"subscribe","params":{"channel":"executions","token":...,"snap_orders":true,"snap_trades":false}}``.
The acknowledgement is followed by the snapshots asked for (open orders; the latest 50
trades), then one ``update`` per change of the account's orders: ``new`` on acceptance,
``trade`` per fill (with ``last_qty``, ``last_price``, ``fees``), then ``filled`` when an
order is complete, ``canceled`` when it is cancelled or an IOC remainder expires.
Messages carry a per-connection ``sequence``. An unknown or expired token is refused
(``Token(s) not found``). Updates are recorded in the ground truth under the channel
``executions`` of the venue (event id: the engine's order id, first id: the trade id or -1).
``{"method":"ping"}`` gets ``pong``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
from aiohttp import web

from platform_streams.simulator.config import KrakenWebSocketLimits
from platform_streams.simulator.decimal_text import trimmed
from platform_streams.simulator.faults.injector import ExchangeFaults
from platform_streams.simulator.ground_truth import GroundTruth
from platform_streams.simulator.kraken.order_json import fee_preference, order_txid, trade_txid
from platform_streams.simulator.market.universe import SCALE_FACTOR, Instrument, stable_seed
from platform_streams.simulator.matching.accounts import Account, AccountRegistry
from platform_streams.simulator.matching.engine import MatchingEngine
from platform_streams.simulator.matching.orders import ExecutionType, Fill, Order, OrderStatus, OrderType
from platform_streams.simulator.rate_windows import FixedWindowCounter
from platform_streams.simulator.websocket_connection import ClientConnection, answer_text_frames

PRIVATE_V2_PATH = "/auth/v2"
EXECUTIONS_CHANNEL = "executions"
_SNAPSHOT_TRADES = 50
_STATUSES = {
    OrderStatus.NEW: "new",
    OrderStatus.PARTIALLY_FILLED: "partially_filled",
    OrderStatus.FILLED: "filled",
    OrderStatus.CANCELED: "canceled",
    OrderStatus.EXPIRED: "canceled",
}


def rfc3339(time_ms: int) -> str:
    moment = datetime.fromtimestamp(time_ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{time_ms % 1000:03d}000Z"


def _number(mantissa: int) -> Any:
    """Kraken v2 sends amounts as JSON numbers: exact decimal text embedded as a raw number."""
    return orjson.Fragment(trimmed(mantissa))


class KrakenPrivateConnection(ClientConnection):
    """An ``/auth/v2`` connection: the account its token belongs to (once subscribed) and its message sequence."""

    __slots__ = ("account", "sequence")

    def __init__(self, ws: web.WebSocketResponse, request: web.Request, max_buffer_bytes: int) -> None:
        super().__init__(ws, request, max_buffer_bytes)
        self.account: Account | None = None
        self.sequence = 0

    def message(self, kind: str, data: list[dict[str, object]]) -> bytes:
        self.sequence += 1
        return orjson.dumps({"channel": EXECUTIONS_CHANNEL, "type": kind, "data": data, "sequence": self.sequence})


class KrakenUserStream:
    """The authenticated v2 endpoint and its ``executions`` updates (an ``OrderEventSink`` of the matching engine)."""

    def __init__(
        self,
        engine: MatchingEngine,
        names: list[str],
        accounts: AccountRegistry,
        account_of_token: Callable[[str], str | None],
        ground_truth: GroundTruth,
        ground_truth_codes: tuple[int, int],
        limits: KrakenWebSocketLimits,
        max_rate_count: int,
        faults: ExchangeFaults,
        seed: int,
    ) -> None:
        self._engine = engine
        self._max_rate_count = max_rate_count
        self._instruments: tuple[Instrument, ...] = engine.market.instruments
        self._names = names
        self._accounts = accounts
        self._account_of_token = account_of_token
        self._ground_truth = ground_truth
        self._exchange_code, self._channel_code = ground_truth_codes
        self._limits = limits
        self._faults = faults
        self._attempts = FixedWindowCounter(limits.connection_attempts, limits.connection_interval_s)
        self._connection_ids = random.Random(stable_seed("kraken-private-connections", seed))
        self.connections: set[KrakenPrivateConnection] = set()

    async def private(self, request: web.Request) -> web.StreamResponse:
        if self._attempts.add(request.remote or "", 1, time.time()) > self._limits.connection_attempts:
            return web.Response(status=429, text="Too Many Requests")
        ws = web.WebSocketResponse(autoping=True, compress=False, max_msg_size=1 << 20)
        await ws.prepare(request)
        connection = KrakenPrivateConnection(ws, request, self._limits.max_buffer_bytes)
        self.connections.add(connection)
        self._faults.attach(connection)
        greeting = {
            "channel": "status",
            "data": [
                {
                    "api_version": "v2",
                    "connection_id": self._connection_ids.getrandbits(63),
                    "system": "online",
                    "version": "2.0.10",
                }
            ],
            "type": "update",
        }
        connection.send_now(orjson.dumps(greeting))
        try:
            await answer_text_frames(ws, connection, lambda text: self.handle(connection, text))
        finally:
            self.connections.discard(connection)
            self._faults.detach(connection)
        return ws

    def handle(self, connection: KrakenPrivateConnection, text: str) -> list[bytes]:
        """The replies to one text frame, in order."""
        time_in = rfc3339(time.time_ns() // 1_000_000)
        try:
            body: Any = orjson.loads(text)
        except orjson.JSONDecodeError:
            return [orjson.dumps({"error": "Malformed request", "success": False, "time_in": time_in, "time_out": time_in})]
        if not isinstance(body, dict):
            return [orjson.dumps({"error": "Malformed request", "success": False, "time_in": time_in, "time_out": time_in})]
        method, req_id = body.get("method"), body.get("req_id")
        reply: dict[str, object] = {"method": method, "req_id": req_id} if req_id is not None else {"method": method}
        if method == "ping":
            return [orjson.dumps({"method": "pong", **({"req_id": req_id} if req_id is not None else {}), "time_in": time_in, "time_out": time_in})]  # fmt: skip
        params = body.get("params")
        if method not in ("subscribe", "unsubscribe") or not isinstance(params, dict):
            return [orjson.dumps({**reply, "error": f"Method not found: {method}", "success": False, "time_in": time_in, "time_out": time_in})]  # fmt: skip
        if params.get("channel") != EXECUTIONS_CHANNEL:
            return [orjson.dumps({**reply, "error": "Channel not found", "success": False, "time_in": time_in, "time_out": time_in})]  # fmt: skip
        api_key = self._account_of_token(str(params.get("token", "")))
        account = self._accounts.get(api_key) if api_key is not None else None
        if account is None:
            return [orjson.dumps({**reply, "error": "Token(s) not found", "success": False, "time_in": time_in, "time_out": time_in})]  # fmt: skip
        if method == "unsubscribe":
            connection.account = None
            result = {"channel": EXECUTIONS_CHANNEL}
            return [orjson.dumps({**reply, "result": result, "success": True, "time_in": time_in, "time_out": time_in})]
        connection.account = account
        snap_orders, snap_trades = params.get("snap_orders", True) is not False, params.get("snap_trades", False) is True
        result = {
            "channel": EXECUTIONS_CHANNEL,
            "maxratecount": self._max_rate_count,
            "snapshot": snap_orders or snap_trades,
            "warnings": [],
        }
        frames = [orjson.dumps({**reply, "result": result, "success": True, "time_in": time_in, "time_out": time_in})]
        if snap_trades:
            fills = self._engine.all_fills(account)[-_SNAPSHOT_TRADES:]
            orders = {f.order_id: self._engine.find(account, f.instrument, f.order_id, None) for f in fills}
            frames.append(connection.message("snapshot", [self._trade_entry(orders[f.order_id], f) for f in fills]))
        if snap_orders:
            open_orders = self._engine.open_orders(account, None)
            frames.append(connection.message("snapshot", [self._order_entry(o, "new") for o in open_orders]))
        return frames

    # entries -----------------------------------------------------------------------

    def _common(self, order: Order) -> dict[str, object]:
        spec = self._instruments[order.instrument]
        entry: dict[str, object] = {
            "order_id": order_txid(order.order_id),
            "symbol": self._names[order.instrument],
            "order_qty": _number(order.lots * spec.lot),
            "cum_qty": _number(order.executed_lots * spec.lot),
            "cum_cost": _number(order.cumulative_quote),
            "side": "buy" if order.is_buy else "sell",
            "order_type": "market" if order.order_type is OrderType.MARKET else "limit",
            "time_in_force": order.time_in_force.value,
            "order_userref": int(order.tag or 0),
            "order_status": _STATUSES[order.status],
            "fee_ccy_pref": fee_preference(order),
            "timestamp": rfc3339(order.updated_ms or order.created_ms),
        }
        if order.order_type is not OrderType.MARKET:
            entry["limit_price"] = _number(order.price_ticks * spec.tick)
        if order.client_order_id:
            entry["cl_ord_id"] = order.client_order_id
        if order.executed_lots:
            entry["avg_price"] = _number(order.cumulative_quote * SCALE_FACTOR // (order.executed_lots * spec.lot))
        return entry

    def _order_entry(self, order: Order, exec_type: str) -> dict[str, object]:
        entry = self._common(order)
        entry["exec_type"] = exec_type
        entry["exec_id"] = f"{order_txid(order.order_id)}-{exec_type}"
        return entry

    def _trade_entry(self, order: Order, fill: Fill) -> dict[str, object]:
        spec = self._instruments[order.instrument]
        entry = self._common(order)
        entry.update(
            {
                "exec_type": "trade",
                "exec_id": trade_txid(fill),
                "trade_id": fill.trade_id,
                "last_qty": _number(fill.lots * spec.lot),
                "last_price": _number(fill.price_ticks * spec.tick),
                "cost": _number(fill.quote_amount),
                "liquidity_ind": "m" if fill.is_maker else "t",
                "fees": [{"asset": fill.commission_asset, "qty": _number(fill.commission)}],
                "timestamp": rfc3339(fill.time_ms),
            }
        )
        return entry

    # OrderEventSink ------------------------------------------------------------------

    def on_execution(self, account: Account, order: Order, execution: ExecutionType, fill: Fill | None, time_ms: int) -> None:
        listeners = [c for c in self.connections if c.account is account and not c.closed]
        if not listeners:
            return
        if execution is ExecutionType.TRADE and fill is not None:
            entries = [self._trade_entry(order, fill)]
            if order.status is OrderStatus.FILLED:
                entries.append(self._order_entry(order, "filled"))
        elif execution is ExecutionType.NEW:
            entries = [self._order_entry(order, "new")]
        else:
            entries = [self._order_entry(order, "canceled")]
        for entry in entries:  # one message per execution: clients tell trades from order updates by the first entry
            for connection in listeners:
                connection.send_now(connection.message("update", [entry]))
        self._ground_truth.record_emitted(
            self._exchange_code,
            [self._channel_code] * len(entries),
            [order.instrument] * len(entries),
            [order.order_id] * len(entries),
            [fill.trade_id if fill is not None and e["exec_type"] == "trade" else -1 for e in entries],
            [len(listeners)] * len(entries),
            time.time_ns(),
        )

    def on_balances(self, account: Account, assets: list[str], time_ms: int) -> None:
        """The ``balances`` channel is not simulated: balances are read with ``Balance`` / ``BalanceEx``."""

    def close_connections(self) -> None:
        for connection in list(self.connections):
            connection.abort()
