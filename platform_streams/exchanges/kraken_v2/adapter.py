"""Kraken WebSocket v2 as one venue adapter (``krakenv2``): books at the depth their subscription was
acknowledged with, CRC32 checksums on snapshots and updates, trade ids, ticker on best bid/offer."""

from __future__ import annotations

from platform_streams.exchanges.kraken.execution import ORDER_ENTRY
from platform_streams.exchanges.kraken_v2 import endpoints
from platform_streams.exchanges.kraken_v2.book_sync import KrakenV2BookSync
from platform_streams.exchanges.kraken_v2.feed import KrakenV2Feed
from platform_streams.exchanges.kraken_v2.instruments import EXCHANGE
from platform_streams.exchanges.kraken_v2.parser import KrakenV2Parser
from platform_streams.exchanges.venue_adapter import VenueAdapter

ADAPTER = VenueAdapter(
    name=EXCHANGE,
    description="Kraken WebSocket v2 (wss://ws.kraken.com/v2): book snapshots and updates with checksums, trade ids",
    rest_url=endpoints.REST_BASE_URL,
    ws_url=endpoints.WS_URL,
    limits=endpoints.LIMITS,
    feed_factory=KrakenV2Feed,
    parser=KrakenV2Parser,
    book_sync=KrakenV2BookSync,
    execution=ORDER_ENTRY,
)
