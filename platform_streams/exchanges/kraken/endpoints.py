"""Kraken WebSocket v1's public URL, subscription messages and documented limits (as data).

Kraken documents no stream or subscription-rate limit for v1 public market data; the host,
book depths and limits it documents are v2's too, defined once in
:mod:`platform_streams.exchanges.kraken_websocket` and named here as this venue's.
"""

from __future__ import annotations

import msgspec

from platform_streams.exchanges.kraken_websocket import BOOK_DEPTHS as BOOK_DEPTHS
from platform_streams.exchanges.kraken_websocket import DEFAULT_BOOK_DEPTH as DEFAULT_BOOK_DEPTH
from platform_streams.exchanges.kraken_websocket import REST_BASE_URL as REST_BASE_URL
from platform_streams.exchanges.kraken_websocket import WS_URL as WS_URL
from platform_streams.exchanges.kraken_websocket import documented_limits

OHLC_INTERVALS_MINUTES = (1, 5, 15, 30, 60, 240, 1440, 10080, 21600)
CHANNELS = ("book", "trade", "ticker", "spread", "ohlc")

LIMITS = documented_limits("kraken", "https://docs.kraken.com/api/docs/websocket-v1/book")


def subscribe_message(
    pairs: list[str], channel: str, depth: int | None = None, interval: int | None = None, request_id: int | None = None
) -> bytes:
    """A v1 ``subscribe`` for ``pairs`` by ws name (``XBT/USD``); ``depth`` for book, ``interval`` (minutes) for ohlc."""
    if channel not in CHANNELS:
        raise ValueError(f"Kraken v1 channel must be one of {CHANNELS}, not {channel!r}")
    subscription: dict[str, object] = {"name": channel}
    if channel == "book":
        if depth not in BOOK_DEPTHS:
            raise ValueError(f"book depth must be one of {BOOK_DEPTHS}, not {depth}")
        subscription["depth"] = depth
    if channel == "ohlc":
        if interval not in OHLC_INTERVALS_MINUTES:
            raise ValueError(f"ohlc interval must be one of {OHLC_INTERVALS_MINUTES} minutes, not {interval}")
        subscription["interval"] = interval
    message: dict[str, object] = {"event": "subscribe", "pair": pairs, "subscription": subscription}
    if request_id is not None:
        message["reqid"] = request_id
    return msgspec.json.encode(message)


def unsubscribe_message(pairs: list[str], channel: str, depth: int | None = None) -> bytes:
    subscription: dict[str, object] = {"name": channel}
    if depth is not None:
        subscription["depth"] = depth
    return msgspec.json.encode({"event": "unsubscribe", "pair": pairs, "subscription": subscription})
