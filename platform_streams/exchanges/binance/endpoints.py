"""Binance spot's public URLs, stream names, subscription messages and documented limits (as data).

Limits from the Binance spot API docs (WebSocket Streams; Limits; ``GET /api/v3/depth``):
1,024 streams per connection, 5 incoming messages (subscribe, unsubscribe, ping) per
second per connection, 300 new connections per 5 minutes per IP, connections closed
after 24 hours; REST request weight 6,000 per minute per IP. Orders (Limits; Trading
endpoints): 100 new orders per 10 s and 200,000 per day per account; each call's weight as
the endpoint documents it (the raw-request limit, 61,000 per 5 minutes, cannot bind before
the weight does: every call weighs at least 1).
"""

from __future__ import annotations

import msgspec

from platform_streams.exchanges.limits import ExchangeLimits, RateLimit, RequestLimit, RequestLimits

WS_BASE_URL = "wss://stream.binance.com:9443"
REST_BASE_URL = "https://api.binance.com"
EXCHANGE_INFO_URL = f"{REST_BASE_URL}/api/v3/exchangeInfo"
DEPTH_SNAPSHOT_LIMITS = (5, 10, 20, 50, 100, 500, 1000, 5000)

LIMITS = ExchangeLimits(
    exchange="binance",
    streams_per_connection=1024,
    subscribe_messages=RateLimit(5, 1.0, "connection", "incoming messages: SUBSCRIBE, UNSUBSCRIBE, ping/pong"),
    new_connections=RateLimit(300, 300.0, "ip", "new WebSocket connections"),
    connection_lifetime_s=24 * 3600,
    rest_budget=RateLimit(6000, 60.0, "ip", "REST request weight"),
    rest_weights={
        "/api/v3/exchangeInfo": 20,
        "/api/v3/depth?limit=100": 5,
        "/api/v3/depth?limit=1000": 50,
        "/api/v3/depth?limit=5000": 250,
    },
    source="https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams",
    notes="depth snapshot weight depends on limit: see depth_snapshot_weight()",
    requests=RequestLimits(
        limits={
            "rest": RequestLimit(6000, "ip", "REST request weight", window_s=60.0),
            "orders": RequestLimit(100, "account", "new orders", window_s=10.0),
            "orders_day": RequestLimit(200_000, "account", "new orders", window_s=86_400.0),
        },
        costs={
            "markets": {"rest": 20},  # GET /api/v3/exchangeInfo
            "place": {"rest": 1, "orders": 1, "orders_day": 1},  # POST /api/v3/order
            "cancel": {"rest": 1},  # DELETE /api/v3/order
            "query": {"rest": 4},  # GET /api/v3/order
            "open_orders": {"rest": 6},  # GET /api/v3/openOrders with a symbol
            "fills": {"rest": 20},  # GET /api/v3/myTrades
            "snapshot": {"rest": 1},  # GET /api/v3/depth: its weight
            "history": {"rest": 2},  # GET /api/v3/klines
        },
    ),
)


def trade_stream(exchange_symbol: str) -> str:
    return f"{exchange_symbol.lower()}@trade"


def agg_trade_stream(exchange_symbol: str) -> str:
    return f"{exchange_symbol.lower()}@aggTrade"


def depth_stream(exchange_symbol: str, fast: bool = True) -> str:
    """The diff-depth stream (``@depth@100ms``, or every second with ``fast=False``)."""
    return f"{exchange_symbol.lower()}@depth@100ms" if fast else f"{exchange_symbol.lower()}@depth"


def book_ticker_stream(exchange_symbol: str) -> str:
    return f"{exchange_symbol.lower()}@bookTicker"


def kline_stream(exchange_symbol: str, interval: str = "1m") -> str:
    return f"{exchange_symbol.lower()}@kline_{interval}"


def combined_stream_url(streams: list[str]) -> str:
    """One connection carrying several streams, frames wrapped as ``{"stream", "data"}``."""
    if not 0 < len(streams) <= LIMITS.streams_per_connection:
        raise ValueError(f"a connection carries 1 to {LIMITS.streams_per_connection} streams, not {len(streams)}")
    return f"{WS_BASE_URL}/stream?streams={'/'.join(streams)}"


def subscribe_message(streams: list[str], request_id: int) -> bytes:
    """A live ``SUBSCRIBE`` for an open connection (counts against the 5 messages per second)."""
    return msgspec.json.encode({"method": "SUBSCRIBE", "params": streams, "id": request_id})


def unsubscribe_message(streams: list[str], request_id: int) -> bytes:
    return msgspec.json.encode({"method": "UNSUBSCRIBE", "params": streams, "id": request_id})


def depth_snapshot_url(exchange_symbol: str, limit: int = 1000) -> str:
    """The REST snapshot the diff stream is bridged to (``lastUpdateId``)."""
    if limit not in DEPTH_SNAPSHOT_LIMITS:
        raise ValueError(f"depth limit must be one of {DEPTH_SNAPSHOT_LIMITS}, not {limit}")
    return f"{REST_BASE_URL}/api/v3/depth?symbol={exchange_symbol.upper()}&limit={limit}"


def depth_snapshot_weight(limit: int) -> int:
    """Request weight of ``GET /api/v3/depth`` by ``limit``: 1-100 → 5, 101-500 → 25, 501-1000 → 50, 1001-5000 → 250."""
    if limit <= 100:
        return 5
    if limit <= 500:
        return 25
    if limit <= 1000:
        return 50
    return 250
