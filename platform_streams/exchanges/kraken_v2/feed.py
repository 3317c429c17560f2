"""Kraken's WebSocket v2 market-data feed for ingestion: ``/v2`` on the v1 host, one subscribe per
channel (at most 500 symbols each), ``ping`` requests as keep-alive, book snapshots by
resubscribing at the same depth (the new snapshot replaces the book)."""

from __future__ import annotations

from collections.abc import Sequence

from platform_streams.exchanges.instruments import Instrument
from platform_streams.exchanges.kraken_v2 import endpoints
from platform_streams.exchanges.kraken_v2.instruments import EXCHANGE, parse_asset_pairs
from platform_streams.exchanges.kraken_websocket import KrakenWebSocketFeed


class KrakenV2Feed(KrakenWebSocketFeed):
    """Subscribes by v2 symbol (``BTC/USD``): books at ``book_depth`` (10 by default), trades without
    the recent-trades snapshot, and the ticker on every best bid/offer change (``event_trigger: bbo``)."""

    exchange = EXCHANGE
    limits = endpoints.LIMITS

    def parse_instruments(self, body: bytes) -> list[Instrument]:
        return [i for i in parse_asset_pairs(body) if i.active]

    def connection_path(self) -> str:
        return endpoints.WS_PATH

    def subscribe_messages(self, instruments: Sequence[Instrument], channels: Sequence[str], first_id: int) -> list[bytes]:
        messages = []
        for batch in _batches([i.exchange_symbol for i in instruments]):
            for channel in channels:
                messages.append(self._subscribe(channel, batch, first_id + len(messages)))
        return messages

    def _subscribe(self, channel: str, symbols: list[str], request_id: int) -> bytes:
        if channel == "book":
            return endpoints.subscribe_message("book", symbols, depth=self.book_depth, request_id=request_id)
        if channel == "ticker":
            return endpoints.subscribe_message("ticker", symbols, event_trigger="bbo", request_id=request_id)
        # trades: no snapshot of the last 50 (they would be stored already, or predate the session)
        return endpoints.subscribe_message(channel, symbols, snapshot=False, request_id=request_id)

    def keepalive_message(self) -> bytes | None:
        return endpoints.PING_MESSAGE

    def book_resubscribe_messages(self, instruments: Sequence[Instrument], first_id: int) -> list[bytes]:
        messages = []
        for batch in _batches([i.exchange_symbol for i in instruments]):
            messages.append(endpoints.unsubscribe_message("book", batch, depth=self.book_depth))
            messages.append(
                endpoints.subscribe_message("book", batch, depth=self.book_depth, request_id=first_id + len(messages))
            )
        return messages


def _batches(symbols: list[str]) -> list[list[str]]:
    size = endpoints.SYMBOLS_PER_REQUEST
    return [symbols[i : i + size] for i in range(0, len(symbols), size)]
