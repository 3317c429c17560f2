"""Coinbase Exchange's ``ws-feed`` for ingestion: one subscribe for every product and channel;
``level2`` starts with a snapshot, so a resync is an unsubscribe and a new subscribe."""

from __future__ import annotations

from collections.abc import Sequence

from platform_streams.exchanges.coinbase import endpoints
from platform_streams.exchanges.coinbase.instruments import EXCHANGE, parse_products
from platform_streams.exchanges.instruments import Instrument
from platform_streams.exchanges.venue_adapter import SnapshotFetch

_PRODUCTS_PER_MESSAGE = 500


class CoinbaseFeed:
    """Subscribes ``level2``, ``matches`` and ``ticker`` by product id (``BTC-USD``)."""

    exchange = EXCHANGE
    limits = endpoints.LIMITS
    default_channels = ("level2", "matches", "ticker")
    keepalive_interval_s = 0.0

    def __init__(
        self, rest_base_url: str = endpoints.REST_BASE_URL, ws_base_url: str = endpoints.WS_URL, book_depth: int = 0
    ) -> None:
        if book_depth:
            raise ValueError(f"coinbase level2 books are whole; book_depth {book_depth} cannot apply")
        self.rest_base_url = rest_base_url.rstrip("/")
        self.ws_base_url = ws_base_url.rstrip("/")

    def instruments_path(self) -> str:
        return "/products"

    def parse_instruments(self, body: bytes) -> list[Instrument]:
        return [i for i in parse_products(body) if i.active]

    def connection_path(self) -> str:
        return "/"

    def subscribe_messages(self, instruments: Sequence[Instrument], channels: Sequence[str], first_id: int) -> list[bytes]:
        products = [i.exchange_symbol for i in instruments]
        return [
            endpoints.subscribe_message(products[i : i + _PRODUCTS_PER_MESSAGE], list(channels))
            for i in range(0, len(products), _PRODUCTS_PER_MESSAGE)
        ]

    def keepalive_message(self) -> bytes | None:
        return None

    def book_snapshot(self, instrument: Instrument) -> SnapshotFetch | None:
        return None  # level2 starts with a snapshot on the socket

    def book_resubscribe_messages(self, instruments: Sequence[Instrument], first_id: int) -> list[bytes]:
        products = [i.exchange_symbol for i in instruments]
        return [endpoints.unsubscribe_message(products, ["level2"]), endpoints.subscribe_message(products, ["level2"])]
