"""Coinbase Exchange (the ``ws-feed``) as one venue adapter: level2 snapshots on subscribe, no sequence."""

from __future__ import annotations

from platform_streams.exchanges.coinbase import endpoints
from platform_streams.exchanges.coinbase.book_sync import CoinbaseBookSync
from platform_streams.exchanges.coinbase.feed import CoinbaseFeed
from platform_streams.exchanges.coinbase.instruments import EXCHANGE
from platform_streams.exchanges.coinbase.parser import CoinbaseParser
from platform_streams.exchanges.instruments import InstrumentRegistry
from platform_streams.exchanges.venue_adapter import VenueAdapter


def _parser(instruments: InstrumentRegistry, _require_metadata: bool) -> CoinbaseParser:
    return CoinbaseParser(instruments)  # Coinbase's text never fixes a scale: metadata is always required


ADAPTER = VenueAdapter(
    name=EXCHANGE,
    description="Coinbase Exchange ws-feed: level2 snapshot then l2update, matches, ticker",
    rest_url=endpoints.REST_BASE_URL,
    ws_url=endpoints.WS_URL,
    limits=endpoints.LIMITS,
    feed_factory=CoinbaseFeed,
    parser=_parser,
    book_sync=CoinbaseBookSync,
)
