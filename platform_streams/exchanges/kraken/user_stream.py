"""Kraken's authenticated WebSocket v2 ``executions`` channel: a token from the private REST call
``GetWebSocketsToken`` (signed like every private call), a subscription carrying it, then one
``update`` per change of the account's orders: ``new``, ``trade`` per fill (``exec_id`` is the
trade's id, as ``TradesHistory`` keys it), ``filled``, ``canceled``, ``expired``. Kraken v2 sends
amounts as JSON numbers: they are read as exact decimals, never floats.

The real host is ``wss://ws-auth.kraken.com/v2``; a configured WebSocket base URL (the simulator)
serves the same under ``/auth/v2``."""

from __future__ import annotations

import base64
import decimal
import hashlib
import hmac
import time
import urllib.parse
from datetime import datetime
from typing import Any

import aiohttp
import msgspec
import orjson

from platform_streams.exchanges.user_stream import (
    NOTHING,
    OrderReport,
    StreamFrame,
    StreamReport,
    TradeReport,
    UserStreamError,
    UserStreamSettings,
)
from platform_streams.schemas import Liquidity, OrderStatus, Side

REST_URL = "https://api.kraken.com"
WS_URL = "wss://ws-auth.kraken.com/v2"
_TOKEN_PATH = "/0/private/GetWebSocketsToken"
_EXACT = msgspec.json.Decoder(float_hook=decimal.Decimal)

_STATUS = {
    "pending_new": OrderStatus.NEW,
    "new": OrderStatus.NEW,
    "partially_filled": OrderStatus.PARTIALLY_FILLED,
    "filled": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "expired": OrderStatus.EXPIRED,
}


class KrakenUserStream:
    """The account's ``executions`` channel."""

    exchange = "kraken"
    keepalive_interval_s = 30.0

    def __init__(self, settings: UserStreamSettings) -> None:
        self._rest = (settings.rest_url or REST_URL).rstrip("/")
        self._url = settings.ws_url.rstrip("/") + "/auth/v2" if settings.ws_url else WS_URL
        self._credentials = settings.credentials
        self._token = ""

    async def prepare(self, session: aiohttp.ClientSession) -> str:
        nonce = str(time.time_ns() // 1000)
        body = urllib.parse.urlencode({"nonce": nonce})
        digest = hashlib.sha256((nonce + body).encode()).digest()
        secret = base64.b64decode(self._credentials.get("secret", ""))
        sign = base64.b64encode(hmac.new(secret, _TOKEN_PATH.encode() + digest, hashlib.sha512).digest()).decode()
        headers = {
            "API-Key": self._credentials.get("apiKey", ""), "API-Sign": sign,
            "Content-Type": "application/x-www-form-urlencoded",
        }  # fmt: skip
        async with session.post(self._rest + _TOKEN_PATH, data=body, headers=headers) as response:
            answer = orjson.loads(await response.read())
        if answer.get("error") or "token" not in (answer.get("result") or {}):
            raise UserStreamError(f"kraken: no WebSocket token: {answer.get('error')}")
        self._token = str(answer["result"]["token"])
        return self._url

    def opening_messages(self) -> list[str]:
        params = {"channel": "executions", "token": self._token, "snap_orders": False, "snap_trades": False}
        return [orjson.dumps({"method": "subscribe", "params": params}).decode()]

    def parse(self, text: str) -> StreamFrame:
        message: Any = _EXACT.decode(text)
        if not isinstance(message, dict):
            return NOTHING
        if message.get("method") == "subscribe":
            if not message.get("success"):
                raise UserStreamError(f"kraken: executions refused: {message.get('error')}")
            return StreamFrame(subscribed=True)
        if message.get("channel") != "executions" or message.get("type") != "update":
            return NOTHING  # status, heartbeat, pong, snapshots (not asked for)
        reports: list[StreamReport] = []
        for entry in message.get("data") or []:
            reports.extend(execution_reports(entry))
        return StreamFrame(reports=reports)

    async def keepalive(self, session: aiohttp.ClientSession) -> str | None:
        return '{"method":"ping"}'


def _text(value: Any) -> str:
    return format(value, "f") if isinstance(value, decimal.Decimal) else str(value)


def _ns(timestamp: str) -> int:
    moment = datetime.fromisoformat(timestamp)
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1_000


def execution_reports(entry: dict) -> list[StreamReport]:
    """One ``executions`` entry: a trade's fill then the order's state, or the order's new state."""
    status = _STATUS.get(str(entry.get("order_status")))
    if status is None:
        raise UserStreamError(f"kraken: unknown order status {entry.get('order_status')!r}")
    client_order_id, exchange_order_id = str(entry.get("cl_ord_id") or ""), str(entry["order_id"])
    timestamp_ns = _ns(str(entry["timestamp"])) if entry.get("timestamp") else 0
    filled = _text(entry.get("cum_qty", 0))
    if status is OrderStatus.PARTIALLY_FILLED and not filled.strip("0."):
        status = OrderStatus.NEW
    reports: list[StreamReport] = [
        OrderReport(
            client_order_id=client_order_id, exchange_order_id=exchange_order_id, status=status, filled=filled,
            reason=str(entry.get("reason") or ""), exchange_ts_ns=timestamp_ns,
        )
    ]  # fmt: skip
    if entry.get("exec_type") == "trade":
        fees = entry.get("fees") or [{}]
        reports.append(
            TradeReport(
                fill_id=str(entry["exec_id"]), client_order_id=client_order_id, exchange_order_id=exchange_order_id,
                side=Side.BUY if entry["side"] == "buy" else Side.SELL, price=_text(entry["last_price"]),
                size=_text(entry["last_qty"]), fee=_text(fees[0].get("qty", 0)), fee_asset=str(fees[0].get("asset", "")),
                liquidity=Liquidity.MAKER if entry.get("liquidity_ind") == "m" else Liquidity.TAKER,
                exchange_ts_ns=timestamp_ns,
            )
        )  # fmt: skip
    return reports
