"""Kraken WebSocket v1 as one venue adapter: books at the depth of their channel name, CRC32 checksums."""

from __future__ import annotations

from platform_streams.exchanges.kraken import endpoints
from platform_streams.exchanges.kraken.book_sync import KrakenBookSync
from platform_streams.exchanges.kraken.execution import ORDER_ENTRY
from platform_streams.exchanges.kraken.feed import KrakenFeed
from platform_streams.exchanges.kraken.instruments import EXCHANGE
from platform_streams.exchanges.kraken.parser import KrakenParser
from platform_streams.exchanges.venue_adapter import VenueAdapter

ADAPTER = VenueAdapter(
    name=EXCHANGE,
    description="Kraken WebSocket v1 (wss://ws.kraken.com): book-<depth> snapshots and checksummed updates",
    rest_url=endpoints.REST_BASE_URL,
    ws_url=endpoints.WS_URL,
    limits=endpoints.LIMITS,
    feed_factory=KrakenFeed,
    parser=KrakenParser,
    book_sync=KrakenBookSync,
    execution=ORDER_ENTRY,
)
