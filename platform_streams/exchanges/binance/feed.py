"""Binance spot's market-data feed for ingestion: combined streams, live SUBSCRIBE, REST snapshots."""

from __future__ import annotations

from collections.abc import Sequence

from platform_streams.exchanges.binance import endpoints
from platform_streams.exchanges.binance.instruments import EXCHANGE, parse_exchange_info
from platform_streams.exchanges.instruments import Instrument
from platform_streams.exchanges.venue_adapter import SnapshotFetch

_STREAMS = {
    "trade": endpoints.trade_stream,
    "aggTrade": endpoints.agg_trade_stream,
    "depth": endpoints.depth_stream,
    "bookTicker": endpoints.book_ticker_stream,
    "kline_1m": endpoints.kline_stream,
}


class BinanceFeed:
    """Connects to ``/stream`` and subscribes with live ``SUBSCRIBE`` messages (at most 4 a second,
    200 streams each, under Binance's 5 messages per second); books start from ``/api/v3/depth``."""

    exchange = EXCHANGE
    limits = endpoints.LIMITS
    default_channels = ("trade", "depth", "bookTicker")
    keepalive_interval_s = 0.0
    streams_per_message = 200
    # weight 5: a thousand books restart in about a minute of 6,000/min weight (1000 levels: weight 50, ten minutes)
    default_snapshot_depth = 100

    def __init__(
        self, rest_base_url: str = endpoints.REST_BASE_URL, ws_base_url: str = endpoints.WS_BASE_URL, book_depth: int = 0
    ) -> None:
        """``book_depth``: levels of the REST snapshot each book starts from (the diff stream has no depth)."""
        self.rest_base_url = rest_base_url.rstrip("/")
        self.ws_base_url = ws_base_url.rstrip("/")
        self.snapshot_depth = book_depth or self.default_snapshot_depth
        if self.snapshot_depth not in endpoints.DEPTH_SNAPSHOT_LIMITS:
            raise ValueError(f"binance book depth must be one of {endpoints.DEPTH_SNAPSHOT_LIMITS}, not {book_depth}")

    def instruments_path(self) -> str:
        return "/api/v3/exchangeInfo"

    def parse_instruments(self, body: bytes) -> list[Instrument]:
        return [i for i in parse_exchange_info(body) if i.active]

    def connection_path(self) -> str:
        return "/stream"

    def streams(self, instruments: Sequence[Instrument], channels: Sequence[str]) -> list[str]:
        unknown = set(channels) - _STREAMS.keys()
        if unknown:
            raise ValueError(f"binance: unknown channels {sorted(unknown)}; known: {sorted(_STREAMS)}")
        return [_STREAMS[channel](instrument.exchange_symbol) for instrument in instruments for channel in channels]

    def subscribe_messages(self, instruments: Sequence[Instrument], channels: Sequence[str], first_id: int) -> list[bytes]:
        streams = self.streams(instruments, channels)
        size = self.streams_per_message
        return [
            endpoints.subscribe_message(streams[i : i + size], first_id + n) for n, i in enumerate(range(0, len(streams), size))
        ]

    def keepalive_message(self) -> bytes | None:
        return None  # Binance pings at the WebSocket level; the client library answers

    def book_snapshot(self, instrument: Instrument) -> SnapshotFetch | None:
        return SnapshotFetch(
            f"/api/v3/depth?symbol={instrument.exchange_symbol}&limit={self.snapshot_depth}",
            endpoints.depth_snapshot_weight(self.snapshot_depth),
        )

    def book_resubscribe_messages(self, instruments: Sequence[Instrument], first_id: int) -> list[bytes]:
        return []
