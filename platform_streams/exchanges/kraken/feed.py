"""Kraken's WebSocket v1 market-data feed for ingestion: one subscribe per channel for all
pairs, ``ping`` events as keep-alive, book snapshots by resubscribing at the same depth."""

from __future__ import annotations

from collections.abc import Sequence

from platform_streams.exchanges.instruments import Instrument
from platform_streams.exchanges.kraken import endpoints
from platform_streams.exchanges.kraken.instruments import EXCHANGE, parse_asset_pairs
from platform_streams.exchanges.venue_adapter import SnapshotFetch

_PING = b'{"event":"ping"}'


class KrakenFeed:
    """Subscribes by ws name (``XBT/USD``); books at ``book_depth`` (:data:`endpoints.DEFAULT_BOOK_DEPTH` by default)."""

    exchange = EXCHANGE
    limits = endpoints.LIMITS
    default_channels = ("trade", "book", "ticker")
    keepalive_interval_s = 30.0

    def __init__(
        self, rest_base_url: str = endpoints.REST_BASE_URL, ws_base_url: str = endpoints.WS_URL, book_depth: int = 0
    ) -> None:
        self.rest_base_url = rest_base_url.rstrip("/")
        self.ws_base_url = ws_base_url.rstrip("/")
        self.book_depth = book_depth or endpoints.DEFAULT_BOOK_DEPTH
        if self.book_depth not in endpoints.BOOK_DEPTHS:
            raise ValueError(f"kraken book depth must be one of {endpoints.BOOK_DEPTHS}, not {book_depth}")

    def instruments_path(self) -> str:
        return "/0/public/AssetPairs"

    def parse_instruments(self, body: bytes) -> list[Instrument]:
        return [i for i in parse_asset_pairs(body) if i.active]

    def connection_path(self) -> str:
        return "/"

    def subscribe_messages(self, instruments: Sequence[Instrument], channels: Sequence[str], first_id: int) -> list[bytes]:
        pairs = [i.exchange_symbol for i in instruments]
        return [
            endpoints.subscribe_message(
                pairs, channel, depth=self.book_depth if channel == "book" else None, request_id=first_id + n
            )
            for n, channel in enumerate(channels)
        ]

    def keepalive_message(self) -> bytes | None:
        return _PING

    def book_snapshot(self, instrument: Instrument) -> SnapshotFetch | None:
        return None  # a book subscription starts with a snapshot

    def book_resubscribe_messages(self, instruments: Sequence[Instrument], first_id: int) -> list[bytes]:
        pairs = [i.exchange_symbol for i in instruments]
        return [
            endpoints.unsubscribe_message(pairs, "book", depth=self.book_depth),
            endpoints.subscribe_message(pairs, "book", depth=self.book_depth, request_id=first_id),
        ]
