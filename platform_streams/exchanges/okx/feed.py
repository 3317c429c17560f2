"""OKX v5's market-data feed for ingestion: public WebSocket, one subscribe per channel batch,
text ``ping`` keep-alive, book snapshots by resubscribing (OKX sends a snapshot on subscribe)."""

from __future__ import annotations

from collections.abc import Sequence

from platform_streams.exchanges.instruments import Instrument
from platform_streams.exchanges.okx import endpoints
from platform_streams.exchanges.okx.instruments import EXCHANGE, parse_instruments
from platform_streams.exchanges.venue_adapter import SnapshotFetch

_MAX_ARGS_PER_MESSAGE = 600  # ≈ 40 bytes an arg: stays well under OKX's 64 KB per message


class OkxFeed:
    """Subscribes ``channels`` × instruments in a few messages; OKX allows 480 a connection an hour."""

    exchange = EXCHANGE
    limits = endpoints.LIMITS
    default_channels = ("trades", "books", "bbo-tbt")
    keepalive_interval_s = 20.0  # OKX closes a connection idle for 30 s

    def __init__(
        self, rest_base_url: str = endpoints.REST_BASE_URL, ws_base_url: str = endpoints.WS_BASE_URL, book_depth: int = 0
    ) -> None:
        if book_depth:
            raise ValueError(f"okx books are as deep as their channel (books: 400 levels); book_depth {book_depth} cannot apply")
        self.rest_base_url = rest_base_url.rstrip("/")
        self.ws_base_url = ws_base_url.rstrip("/")

    def instruments_path(self) -> str:
        return "/api/v5/public/instruments?instType=SPOT"

    def parse_instruments(self, body: bytes) -> list[Instrument]:
        return [i for i in parse_instruments(body) if i.active]

    def connection_path(self) -> str:
        return "/ws/v5/public"

    def subscribe_messages(self, instruments: Sequence[Instrument], channels: Sequence[str], first_id: int) -> list[bytes]:
        names = [i.exchange_symbol for i in instruments]
        return [
            endpoints.subscribe_message(channel, names[i : i + _MAX_ARGS_PER_MESSAGE])
            for channel in channels
            for i in range(0, len(names), _MAX_ARGS_PER_MESSAGE)
        ]

    def keepalive_message(self) -> bytes | None:
        return endpoints.PING_MESSAGE

    def book_snapshot(self, instrument: Instrument) -> SnapshotFetch | None:
        return None  # the books channel starts with a snapshot

    def book_resubscribe_messages(self, instruments: Sequence[Instrument], first_id: int) -> list[bytes]:
        names = [i.exchange_symbol for i in instruments]
        batches = [names[i : i + _MAX_ARGS_PER_MESSAGE] for i in range(0, len(names), _MAX_ARGS_PER_MESSAGE)]
        return [
            message
            for batch in batches
            for message in (endpoints.unsubscribe_message("books", batch), endpoints.subscribe_message("books", batch))
        ]
