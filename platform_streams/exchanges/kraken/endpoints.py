"""Kraken WebSocket v1's public URL, subscription messages and documented limits (as data).

Kraken documents no stream or subscription-rate limit for v1 public market data; it
does document a connection limit enforced by Cloudflare of about 150 connection
attempts per rolling 10 minutes per IP, book depths of 10, 25, 100, 500 or 1000, and
the REST public-endpoint budget (about one call per second per IP).
"""

from __future__ import annotations

import msgspec

from platform_streams.exchanges.limits import ExchangeLimits, RateLimit

WS_URL = "wss://ws.kraken.com"
REST_BASE_URL = "https://api.kraken.com"
ASSET_PAIRS_URL = f"{REST_BASE_URL}/0/public/AssetPairs"
BOOK_DEPTHS = (10, 25, 100, 500, 1000)
DEFAULT_BOOK_DEPTH = 10
"""The depth ingestion subscribes books at unless configured (normalisers read it from the frames)."""
OHLC_INTERVALS_MINUTES = (1, 5, 15, 30, 60, 240, 1440, 10080, 21600)
CHANNELS = ("book", "trade", "ticker", "spread", "ohlc")

LIMITS = ExchangeLimits(
    exchange="kraken",
    streams_per_connection=None,
    subscribe_messages=None,
    new_connections=RateLimit(150, 600.0, "ip", "connection attempts (Cloudflare)"),
    connection_lifetime_s=None,
    rest_budget=RateLimit(1, 1.0, "ip", "public REST calls"),
    rest_weights={"/0/public/AssetPairs": 1},
    source="https://docs.kraken.com/api/docs/websocket-v1/book",
)


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
