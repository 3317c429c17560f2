"""Kraken WebSocket v2's public URL, request messages and documented limits (as data).

v2 is served beside v1 on the same host, at the path ``/v2``, with the book depths and limits
Kraken documents for both versions (defined once in :mod:`platform_streams.exchanges.kraken_websocket`
and named here as this venue's); no limit on the symbols of one request is documented, so a
request carries at most ``SYMBOLS_PER_REQUEST``. Requests are
``{"method": ..., "params": {...}, "req_id": ...}``; every symbol of a subscription is
acknowledged on its own (``{"method": "subscribe", "result": {...}, "success": true}``).
"""

from __future__ import annotations

import msgspec

from platform_streams.exchanges.kraken_websocket import BOOK_DEPTHS as BOOK_DEPTHS
from platform_streams.exchanges.kraken_websocket import DEFAULT_BOOK_DEPTH as DEFAULT_BOOK_DEPTH
from platform_streams.exchanges.kraken_websocket import REST_BASE_URL as REST_BASE_URL
from platform_streams.exchanges.kraken_websocket import WS_URL as WS_URL
from platform_streams.exchanges.kraken_websocket import documented_limits

WS_PATH = "/v2"
CHANNELS = ("book", "trade", "ticker")
TICKER_TRIGGERS = ("bbo", "trades")
SYMBOLS_PER_REQUEST = 500
PING_MESSAGE = b'{"method":"ping"}'

LIMITS = documented_limits("krakenv2", "https://docs.kraken.com/api/docs/websocket-v2/book")


def subscribe_message(
    channel: str,
    symbols: list[str],
    *,
    depth: int | None = None,
    snapshot: bool = True,
    event_trigger: str | None = None,
    request_id: int | None = None,
) -> bytes:
    """A ``subscribe`` request for ``symbols`` (``BTC/USD``); ``depth`` for book, ``event_trigger`` for ticker."""
    return _request("subscribe", channel, symbols, depth, snapshot, event_trigger, request_id)


def unsubscribe_message(channel: str, symbols: list[str], *, depth: int | None = None, request_id: int | None = None) -> bytes:
    return _request("unsubscribe", channel, symbols, depth, None, None, request_id)


def _request(
    method: str,
    channel: str,
    symbols: list[str],
    depth: int | None,
    snapshot: bool | None,
    event_trigger: str | None,
    request_id: int | None,
) -> bytes:
    if channel not in CHANNELS:
        raise ValueError(f"Kraken v2 channel must be one of {CHANNELS}, not {channel!r}")
    if not 0 < len(symbols) <= SYMBOLS_PER_REQUEST:
        raise ValueError(f"a request names 1 to {SYMBOLS_PER_REQUEST} symbols, not {len(symbols)}")
    params: dict[str, object] = {"channel": channel, "symbol": symbols}
    if channel == "book":
        if depth not in BOOK_DEPTHS:
            raise ValueError(f"book depth must be one of {BOOK_DEPTHS}, not {depth}")
        params["depth"] = depth
    if event_trigger is not None:
        if channel != "ticker" or event_trigger not in TICKER_TRIGGERS:
            raise ValueError(f"event_trigger is one of {TICKER_TRIGGERS}, for ticker only")
        params["event_trigger"] = event_trigger
    if snapshot is not None:
        params["snapshot"] = snapshot
    message: dict[str, object] = {"method": method, "params": params}
    if request_id is not None:
        message["req_id"] = request_id
    return msgspec.json.encode(message)
