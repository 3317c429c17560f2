"""The connection-level side of an exchange adapter, as the ingestion daemon needs it.

Each exchange package provides a ``feed.py`` implementing :class:`MarketDataFeed`:
where its metadata and WebSocket endpoints are, how to subscribe (in messages the
exchange's rate limit allows), its keep-alive, and how a book snapshot is obtained
(a REST call, or a resubscription that makes the exchange send one on the socket).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import msgspec

from platform_streams.exchanges.instruments import Instrument
from platform_streams.exchanges.limits import ExchangeLimits


class SnapshotFetch(msgspec.Struct, frozen=True):
    """A REST book snapshot: the path (with query) under the REST base URL, and its weight."""

    path: str
    weight: int


class MarketDataFeed(Protocol):
    """What ingestion needs to know about one exchange's public market-data feed."""

    exchange: str
    limits: ExchangeLimits
    default_channels: tuple[str, ...]
    rest_base_url: str
    ws_base_url: str

    def instruments_path(self) -> str:
        """REST path of the instrument metadata (the symbol mapping and scales come from it)."""
        ...

    def parse_instruments(self, body: bytes) -> list[Instrument]:
        """Instruments from the metadata body."""
        ...

    def connection_path(self) -> str:
        """WebSocket path to connect to; subscriptions follow as messages."""
        ...

    def subscribe_messages(self, instruments: Sequence[Instrument], channels: Sequence[str], first_id: int) -> list[bytes]:
        """Messages that subscribe ``channels`` of ``instruments``, each within the exchange's limits."""
        ...

    def keepalive_message(self) -> bytes | None:
        """An application-level ping to send every ``keepalive_interval_s`` (None: WebSocket pings suffice)."""
        ...

    keepalive_interval_s: float

    def book_snapshot(self, instrument: Instrument) -> SnapshotFetch | None:
        """The REST snapshot that starts this instrument's book, or None when the exchange sends
        the snapshot on the socket after a subscription."""
        ...

    def book_resubscribe_messages(self, instruments: Sequence[Instrument], first_id: int) -> list[bytes]:
        """As few messages as the exchange allows that make it send fresh book snapshots of
        ``instruments`` on the socket (unsubscribe then subscribe); empty when snapshots come from REST."""
        ...
