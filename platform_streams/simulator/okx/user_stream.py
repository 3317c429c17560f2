"""OKX's private WebSocket ``/ws/v5/private``: ``login``, then the ``orders`` channel pushing every change of the
account's orders (placement, each fill, cancel) as OKX pushes it.

``login`` takes ``{apiKey, passphrase, timestamp, sign}`` (``auth.py``) and answers
``{"event":"login","code":"0",...}`` or an error event (60004 timestamp, 60005 key,
60007 sign, 60024 passphrase, 60009 malformed). Subscribing before logging in is 60011;
a channel other than ``orders`` is 60018. A subscription names ``instType`` (``SPOT`` or
``ANY``) and optionally ``instId``; each push echoes it with the account's ``uid``.
Pushes are recorded in the ground truth under the channel ``orders`` (event id: the
order id, first id: the trade id or -1). Text ``ping`` gets ``pong``.
"""

from __future__ import annotations

import logging
import random
import time
import zlib
from typing import Any

import orjson
from aiohttp import web

from platform_streams.simulator.config import OkxRestLimits, OkxWebSocketLimits
from platform_streams.simulator.faults.injector import ExchangeFaults
from platform_streams.simulator.ground_truth import GroundTruth
from platform_streams.simulator.market.universe import Instrument, stable_seed
from platform_streams.simulator.matching.accounts import Account, AccountRegistry
from platform_streams.simulator.matching.orders import ExecutionType, Fill, Order
from platform_streams.simulator.okx import frames, order_json
from platform_streams.simulator.okx.auth import LoginRefused, authenticate_login
from platform_streams.simulator.rate_windows import FixedWindowCounter
from platform_streams.simulator.websocket_connection import ClientConnection, answer_text_frames

log = logging.getLogger(__name__)

PRIVATE_PATH = "/ws/v5/private"
ORDERS_CHANNEL = "orders"
_INST_TYPES = ("SPOT", "ANY")


def user_id(account: Account) -> str:
    """A stable numeric OKX ``uid`` for an account."""
    return str(zlib.crc32(account.api_key.encode()) + 10**11)


class OkxPrivateConnection(ClientConnection):
    """A ``/ws/v5/private`` connection: its ``connId``, the account it logged in as, its ``orders`` subscriptions."""

    __slots__ = ("conn_id", "account", "subscriptions")

    def __init__(self, ws: web.WebSocketResponse, request: web.Request, max_buffer_bytes: int, conn_id: str) -> None:
        super().__init__(ws, request, max_buffer_bytes)
        self.conn_id = conn_id
        self.account: Account | None = None
        self.subscriptions: list[dict[str, str]] = []


class OkxUserStream:
    """The private endpoint and the ``orders`` pushes (an ``OrderEventSink`` of the matching engine)."""

    def __init__(
        self,
        instruments: tuple[Instrument, ...],
        names: list[str],
        accounts: AccountRegistry,
        ground_truth: GroundTruth,
        ground_truth_codes: tuple[int, int],
        limits: OkxWebSocketLimits,
        rest_limits: OkxRestLimits,
        faults: ExchangeFaults,
        seed: int,
    ) -> None:
        self._instruments = instruments
        self._names = names
        self._accounts = accounts
        self._ground_truth = ground_truth
        self._exchange_code, self._channel_code = ground_truth_codes
        self._limits = limits
        self._max_skew_s = rest_limits.max_timestamp_skew_s
        self._faults = faults
        self._attempts = FixedWindowCounter(limits.connection_attempts, limits.connection_interval_s)
        self._conn_ids = random.Random(stable_seed("okx-private-connections", seed))
        self.connections: set[OkxPrivateConnection] = set()

    async def private(self, request: web.Request) -> web.StreamResponse:
        peer = request.remote or ""
        if self._attempts.add(peer, 1, time.time()) > self._limits.connection_attempts:
            return web.Response(status=429, text="Too Many Requests")
        ws = web.WebSocketResponse(autoping=True, compress=False, max_msg_size=1 << 20)
        await ws.prepare(request)
        connection = OkxPrivateConnection(ws, request, self._limits.max_buffer_bytes, f"{self._conn_ids.getrandbits(32):08x}")
        self.connections.add(connection)
        self._faults.attach(connection)
        try:
            await answer_text_frames(ws, connection, lambda text: self.handle(connection, text))
        finally:
            self.connections.discard(connection)
            self._faults.detach(connection)
        return ws

    def handle(self, connection: OkxPrivateConnection, text: str) -> list[bytes]:
        """The replies to one text frame, in order."""
        if text == "ping":
            return [b"pong"]
        conn_id = connection.conn_id
        try:
            body: Any = orjson.loads(text)
        except orjson.JSONDecodeError:
            return [frames.error("60012", f"Invalid request: {text}", conn_id, None)]
        if not isinstance(body, dict) or not isinstance(body.get("args"), list) or not body["args"]:
            return [frames.error("60012", f"Invalid request: {text}", conn_id, None)]
        request_id = str(body["id"]) if body.get("id") is not None else None
        op = body.get("op")
        if op == "login":
            return [self._login(connection, body["args"][0], request_id)]
        if op not in ("subscribe", "unsubscribe"):
            return [frames.error("60019", f"Invalid op: {op}", conn_id, request_id)]
        if connection.account is None:
            return [frames.error("60011", "Please log in.", conn_id, request_id)]
        return [self._subscription(connection, op, arg, request_id) for arg in body["args"]]

    def _login(self, connection: OkxPrivateConnection, arg: object, request_id: str | None) -> bytes:
        try:
            connection.account = authenticate_login(arg, self._accounts, time.time(), self._max_skew_s)
        except LoginRefused as refused:
            return frames.error(refused.code, refused.msg, connection.conn_id, request_id)
        reply: dict[str, object] = {"id": request_id} if request_id is not None else {}
        reply.update({"event": "login", "code": "0", "msg": "", "connId": connection.conn_id})
        return orjson.dumps(reply)

    def _subscription(self, connection: OkxPrivateConnection, op: str, arg: object, request_id: str | None) -> bytes:
        valid = (
            isinstance(arg, dict)
            and arg.get("channel") == ORDERS_CHANNEL
            and arg.get("instType") in _INST_TYPES
            and (arg.get("instId") is None or arg.get("instId") in self._names)
        )
        if not valid:
            return frames.error(
                "60018",
                f"Wrong URL or channel:{arg.get('channel') if isinstance(arg, dict) else arg} doesn't exist. "
                "Please use the correct URL, channel and parameters referring to API document.",
                connection.conn_id,
                request_id,
            )
        assert isinstance(arg, dict)
        wanted = {k: str(arg[k]) for k in ("channel", "instType", "instId") if arg.get(k) is not None}
        if op == "subscribe" and wanted not in connection.subscriptions:
            connection.subscriptions.append(wanted)
        elif op == "unsubscribe" and wanted in connection.subscriptions:
            connection.subscriptions.remove(wanted)
        reply: dict[str, object] = {"id": request_id} if request_id is not None else {}
        reply.update({"event": op, "arg": wanted, "connId": connection.conn_id})
        return orjson.dumps(reply)

    # OrderEventSink ------------------------------------------------------------

    def on_execution(self, account: Account, order: Order, execution: ExecutionType, fill: Fill | None, time_ms: int) -> None:
        inst_id = self._names[order.instrument]
        entry: bytes | None = None
        fanout = 0
        for connection in self.connections:
            if connection.account is not account or connection.closed:
                continue
            for subscription in connection.subscriptions:
                if subscription.get("instId", inst_id) != inst_id:
                    continue
                if entry is None:
                    entry = orjson.dumps(
                        order_json.order_push(order, self._instruments[order.instrument], inst_id, order.tag, fill)
                    )
                arg = orjson.dumps({**subscription, "uid": user_id(account)})
                connection.send_now(b'{"arg":%b,"data":[%b]}' % (arg, entry))
                fanout += 1
                break
        if fanout:
            self._ground_truth.record_emitted(
                self._exchange_code,
                [self._channel_code],
                [order.instrument],
                [order.order_id],
                [fill.trade_id if fill else -1],
                [fanout],
                time.time_ns(),
            )

    def on_balances(self, account: Account, assets: list[str], time_ms: int) -> None:
        """The ``account`` channel is not simulated: balances are read with ``GET /api/v5/account/balance``."""

    def close_connections(self) -> None:
        for connection in list(self.connections):
            connection.abort()
