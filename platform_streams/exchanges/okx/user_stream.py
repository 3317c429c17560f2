"""OKX v5's private WebSocket ``/ws/v5/private``: ``login`` (key, passphrase, a timestamp signed
with the secret), then the ``orders`` channel of spot; each push is the order now and, when a fill
changed it, that fill (``tradeId``, ``fillSz``, ``fillPx``, ``fillFee`` negative when paid).
OKX drops a connection silent for 30 s: a text ``ping`` goes every 20 s."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import aiohttp
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

WS_URL = "wss://ws.okx.com:8443"
PRIVATE_PATH = "/ws/v5/private"
_SUBSCRIBE = orjson.dumps({"op": "subscribe", "args": [{"channel": "orders", "instType": "SPOT"}]}).decode()

_STATUS = {
    "live": OrderStatus.NEW,
    "partially_filled": OrderStatus.PARTIALLY_FILLED,
    "filled": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "mmp_canceled": OrderStatus.CANCELED,
}


class OkxUserStream:
    """The account's ``orders`` channel."""

    exchange = "okx"
    keepalive_interval_s = 20.0

    def __init__(self, settings: UserStreamSettings) -> None:
        self._url = (settings.ws_url or WS_URL).rstrip("/") + PRIVATE_PATH
        self._credentials = settings.credentials

    async def prepare(self, session: aiohttp.ClientSession) -> str:
        return self._url

    def opening_messages(self) -> list[str]:
        stamp = str(int(time.time()))
        secret = self._credentials.get("secret", "").encode()
        sign = base64.b64encode(hmac.new(secret, f"{stamp}GET/users/self/verify".encode(), hashlib.sha256).digest()).decode()
        login = {
            "apiKey": self._credentials.get("apiKey", ""), "passphrase": self._credentials.get("password", ""),
            "timestamp": stamp, "sign": sign,
        }  # fmt: skip
        return [orjson.dumps({"op": "login", "args": [login]}).decode()]

    def parse(self, text: str) -> StreamFrame:
        if text == "pong":
            return NOTHING
        message = orjson.loads(text)
        if not isinstance(message, dict):
            return NOTHING
        event = message.get("event")
        if event == "login":
            return StreamFrame(replies=[_SUBSCRIBE])  # subscribing only once logged in
        if event == "subscribe":
            return StreamFrame(subscribed=True)
        if event == "error":
            raise UserStreamError(f"okx: {message.get('code')} {message.get('msg')}")
        if (message.get("arg") or {}).get("channel") != "orders":
            return NOTHING
        reports: list[StreamReport] = []
        for entry in message.get("data") or []:
            reports.extend(order_reports(entry))
        return StreamFrame(reports=reports)

    async def keepalive(self, session: aiohttp.ClientSession) -> str | None:
        return "ping"


def order_reports(entry: dict) -> list[StreamReport]:
    """One ``orders`` push entry: the order's state, then the fill that changed it (if one did)."""
    status = _STATUS.get(str(entry["state"]))
    if status is None:
        raise UserStreamError(f"okx: unknown order state {entry['state']!r}")
    client_order_id, exchange_order_id = str(entry.get("clOrdId") or ""), str(entry["ordId"])
    reports: list[StreamReport] = [
        OrderReport(
            client_order_id=client_order_id, exchange_order_id=exchange_order_id, status=status,
            filled=str(entry.get("accFillSz") or "0"), exchange_ts_ns=int(entry.get("uTime") or 0) * 1_000_000,
        )
    ]  # fmt: skip
    if entry.get("tradeId") and str(entry.get("fillSz") or "0").strip("0."):
        fee = str(entry.get("fillFee") or "0")
        reports.append(
            TradeReport(
                fill_id=str(entry["tradeId"]), client_order_id=client_order_id, exchange_order_id=exchange_order_id,
                side=Side.BUY if entry["side"] == "buy" else Side.SELL, price=str(entry["fillPx"]), size=str(entry["fillSz"]),
                fee=fee[1:] if fee.startswith("-") else ("-" + fee if fee.strip("0.") else "0"),  # OKX: negative is paid
                fee_asset=str(entry.get("fillFeeCcy") or ""),
                liquidity=Liquidity.MAKER if entry.get("execType") == "M" else Liquidity.TAKER,
                exchange_ts_ns=int(entry.get("fillTime") or 0) * 1_000_000,
            )
        )  # fmt: skip
    return reports
