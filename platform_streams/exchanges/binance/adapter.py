"""Binance spot as one venue adapter: combined streams with REST depth snapshots, the native trade path, order entry."""

from __future__ import annotations

from platform_streams.exchanges.binance import endpoints
from platform_streams.exchanges.binance.book_sync import BinanceBookSync
from platform_streams.exchanges.binance.execution import ORDER_ENTRY
from platform_streams.exchanges.binance.feed import BinanceFeed
from platform_streams.exchanges.binance.instruments import EXCHANGE
from platform_streams.exchanges.binance.parser import BinanceParser
from platform_streams.exchanges.venue_adapter import VenueAdapter

ADAPTER = VenueAdapter(
    name=EXCHANGE,
    description="Binance spot: combined streams, REST /api/v3/depth snapshots bridged by update ids",
    rest_url=endpoints.REST_BASE_URL,
    ws_url=endpoints.WS_BASE_URL,
    limits=endpoints.LIMITS,
    feed_factory=BinanceFeed,
    parser=BinanceParser,
    book_sync=BinanceBookSync,
    execution=ORDER_ENTRY,
)
