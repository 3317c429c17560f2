"""The exchanges ingestion can connect to: name → feed class (one per exchange package)."""

from __future__ import annotations

from platform_streams.exchanges.binance.feed import BinanceFeed
from platform_streams.exchanges.coinbase.feed import CoinbaseFeed
from platform_streams.exchanges.kraken.feed import KrakenFeed
from platform_streams.exchanges.okx.feed import OkxFeed
from platform_streams.ingestion.feed import MarketDataFeed
from platform_streams.settings import ConfigError

FEEDS: dict[str, type] = {"binance": BinanceFeed, "okx": OkxFeed, "kraken": KrakenFeed, "coinbase": CoinbaseFeed}


def build_feed(exchange: str, rest_url: str = "", ws_url: str = "") -> MarketDataFeed:
    """The feed of ``exchange``, pointed at ``rest_url``/``ws_url`` (the simulator) or the real hosts."""
    feed_class = FEEDS.get(exchange)
    if feed_class is None:
        raise ConfigError(f"no ingestion feed for exchange {exchange!r}; known: {sorted(FEEDS)}")
    kwargs = {key: value for key, value in (("rest_base_url", rest_url), ("ws_base_url", ws_url)) if value}
    return feed_class(**kwargs)
