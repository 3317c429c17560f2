"""Kraken's WebSocket v1 market-data feed for ingestion: one subscribe per channel for all
pairs, ``ping`` events as keep-alive, book snapshots by resubscribing at the same depth."""

from __future__ import annotations

from collections.abc import Sequence

from platform_streams.exchanges.instruments import Instrument
from platform_streams.exchanges.kraken import endpoints
from platform_streams.exchanges.kraken.instruments import EXCHANGE, parse_asset_pairs
from platform_streams.exchanges.kraken_websocket import KrakenWebSocketFeed

_PING = b'{"event":"ping"}'


class KrakenFeed(KrakenWebSocketFeed):
    """Subscribes by ws name (``XBT/USD``); books at ``book_depth`` (:data:`endpoints.DEFAULT_BOOK_DEPTH` by default)."""

    exchange = EXCHANGE
    limits = endpoints.LIMITS

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

    def book_resubscribe_messages(self, instruments: Sequence[Instrument], first_id: int) -> list[bytes]:
        pairs = [i.exchange_symbol for i in instruments]
        return [
            endpoints.unsubscribe_message(pairs, "book", depth=self.book_depth),
            endpoints.subscribe_message(pairs, "book", depth=self.book_depth, request_id=first_id),
        ]
