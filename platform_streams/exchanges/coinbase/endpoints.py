"""Coinbase Exchange's public ``ws-feed`` URL, subscription messages and documented limits (as data).

Limits from Coinbase Exchange's WebSocket rate-limit page: 8 requests per second per IP
(bursts up to 20), 100 messages sent by the client per second per IP, and at most 10
subscriptions per product and channel; public REST: 10 requests per second per IP.
The captures' host ``ws-feed.pro.coinbase.com`` is the same feed's former name.
"""

from __future__ import annotations

import msgspec

from platform_streams.exchanges.limits import ExchangeLimits, RateLimit

WS_URL = "wss://ws-feed.exchange.coinbase.com"
REST_BASE_URL = "https://api.exchange.coinbase.com"
PRODUCTS_URL = f"{REST_BASE_URL}/products"
CHANNELS = ("level2", "level2_batch", "matches", "ticker", "heartbeat")

LIMITS = ExchangeLimits(
    exchange="coinbase",
    streams_per_connection=None,
    subscribe_messages=RateLimit(8, 1.0, "ip", "WebSocket requests (bursts up to 20)"),
    new_connections=RateLimit(8, 1.0, "ip", "WebSocket requests, connections included"),
    connection_lifetime_s=None,
    rest_budget=RateLimit(10, 1.0, "ip", "public REST requests"),
    rest_weights={"/products": 1},
    source="https://docs.cdp.coinbase.com/exchange/websocket-feed/rate-limits",
    notes="10 subscriptions per product and channel per account",
)


def subscribe_message(product_ids: list[str], channels: list[str]) -> bytes:
    """A ``subscribe`` for ``channels`` (``level2``, ``matches``, ``ticker``...) on ``product_ids`` (``BTC-USD``)."""
    unknown = [channel for channel in channels if channel not in CHANNELS]
    if unknown:
        raise ValueError(f"Coinbase channels must be among {CHANNELS}, not {unknown}")
    return msgspec.json.encode({"type": "subscribe", "product_ids": product_ids, "channels": channels})


def unsubscribe_message(product_ids: list[str], channels: list[str]) -> bytes:
    return msgspec.json.encode({"type": "unsubscribe", "product_ids": product_ids, "channels": channels})
