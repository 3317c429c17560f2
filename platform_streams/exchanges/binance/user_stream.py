"""Binance spot's user data stream: a listenKey from ``POST /api/v3/userDataStream`` (API key only,
no signature), the WebSocket ``/ws/<listenKey>``, its ``executionReport`` events as order and trade
reports. The key is kept alive with ``PUT`` every 30 minutes (it lapses after 60 without)."""

from __future__ import annotations

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

REST_URL = "https://api.binance.com"
WS_URL = "wss://stream.binance.com:9443"
_LISTEN_KEY_PATH = "/api/v3/userDataStream"

_STATUS = {
    "NEW": OrderStatus.NEW,
    "PARTIALLY_FILLED": OrderStatus.PARTIALLY_FILLED,
    "PENDING_CANCEL": OrderStatus.PARTIALLY_FILLED,  # still open; the filled size decides below
    "FILLED": OrderStatus.FILLED,
    "CANCELED": OrderStatus.CANCELED,
    "REJECTED": OrderStatus.REJECTED,
    "EXPIRED": OrderStatus.EXPIRED,
    "EXPIRED_IN_MATCH": OrderStatus.EXPIRED,
}


class BinanceUserStream:
    """The account's listenKey stream."""

    exchange = "binance"
    keepalive_interval_s = 30 * 60.0

    def __init__(self, settings: UserStreamSettings) -> None:
        self._rest = (settings.rest_url or REST_URL).rstrip("/")
        self._ws = (settings.ws_url or WS_URL).rstrip("/")
        self._headers = {"X-MBX-APIKEY": settings.credentials.get("apiKey", "")}
        self._listen_key = ""

    async def prepare(self, session: aiohttp.ClientSession) -> str:
        async with session.post(self._rest + _LISTEN_KEY_PATH, headers=self._headers) as response:
            body = await response.read()
            if response.status != 200:
                raise UserStreamError(f"binance: listenKey refused ({response.status}): {body[:200]!r}")
        self._listen_key = str(orjson.loads(body)["listenKey"])
        return f"{self._ws}/ws/{self._listen_key}"

    def opening_messages(self) -> list[str]:
        return []  # the listenKey in the URL is the subscription

    def parse(self, text: str) -> StreamFrame:
        event = orjson.loads(text)
        if not isinstance(event, dict):
            return NOTHING
        if event.get("e") == "listenKeyExpired":
            raise UserStreamError("binance: the listenKey expired")
        if event.get("e") != "executionReport":
            return NOTHING  # balances (outboundAccountPosition) are not followed here
        return StreamFrame(reports=execution_reports(event))

    async def keepalive(self, session: aiohttp.ClientSession) -> str | None:
        url = f"{self._rest}{_LISTEN_KEY_PATH}?listenKey={self._listen_key}"
        async with session.put(url, headers=self._headers) as response:
            if response.status != 200:
                raise UserStreamError(f"binance: listenKey keepalive refused ({response.status})")
        return None


def execution_reports(event: dict) -> list[StreamReport]:
    """An ``executionReport``: the order's state, then its fill when it reports one (``x`` TRADE)."""
    canceled = event.get("x") == "CANCELED" and event.get("C")
    client_order_id = str(event["C"] if canceled else event["c"])  # a cancel's own id is in ``c``
    exchange_order_id, filled = str(event["i"]), str(event["z"])
    status = _STATUS.get(str(event["X"]))
    if status is None:
        raise UserStreamError(f"binance: unknown order status {event['X']!r}")
    if status is OrderStatus.PARTIALLY_FILLED and not filled.strip("0."):
        status = OrderStatus.NEW
    reason = "" if event.get("r") in (None, "NONE") else str(event["r"])
    reports: list[StreamReport] = [
        OrderReport(
            client_order_id=client_order_id, exchange_order_id=exchange_order_id, status=status, filled=filled,
            reason=reason, exchange_ts_ns=int(event["E"]) * 1_000_000,
        )
    ]  # fmt: skip
    if event.get("x") == "TRADE":
        reports.append(
            TradeReport(
                fill_id=str(event["t"]), client_order_id=client_order_id, exchange_order_id=exchange_order_id,
                side=Side.BUY if event["S"] == "BUY" else Side.SELL, price=str(event["L"]), size=str(event["l"]),
                fee=str(event.get("n") or "0"), fee_asset=str(event.get("N") or ""),
                liquidity=Liquidity.MAKER if event.get("m") else Liquidity.TAKER, exchange_ts_ns=int(event["T"]) * 1_000_000,
            ),
        )  # fmt: skip
    return reports
