"""The venue-adapter contract: everything the platform knows about one venue, in one object.

Every venue package (``platform_streams/exchanges/<venue>/``, the same file names in each)
builds one :class:`VenueAdapter` in its ``adapter.py``, and :mod:`.registry` lists them all:
ingestion asks it for the venue's :class:`MarketDataFeed` (endpoints, subscriptions and their
pacing, keep-alive, how a book snapshot is obtained, instrument metadata), normalisation for
the venue's parser (frames and REST bodies into canonical events, the venue's symbol names,
native fast paths) and book rule; the snapshot budget reads its documented limits. Neither
normalisation nor ingestion names a venue.

Order entry (place, cancel, query, the user stream) belongs to the same adapter: the trading
path adds it as ``execution`` (built in the venue's ``execution.py``); market-data adapters
leave it ``None``. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

import msgspec

from platform_streams.books.sync import BookSync
from platform_streams.exchanges.base import ExchangeParser
from platform_streams.exchanges.instruments import Instrument, InstrumentRegistry
from platform_streams.exchanges.limits import ExchangeLimits
from platform_streams.exchanges.user_stream import UserStreamSettings, UserStreamVenue


class SnapshotFetch(msgspec.Struct, frozen=True):
    """A REST book snapshot: the path (with query) under the REST base URL, and its weight."""

    path: str
    weight: int


class MarketDataFeed(Protocol):
    """The connection-level side of a venue, as ingestion needs it: where its metadata and
    WebSocket endpoints are, how to subscribe (in messages the venue's rate limit allows), its
    keep-alive, and how a book snapshot is obtained (a REST call, or a resubscription that makes
    the venue send one on the socket)."""

    exchange: str
    limits: ExchangeLimits
    default_channels: tuple[str, ...]
    rest_base_url: str
    ws_base_url: str
    keepalive_interval_s: float

    def instruments_path(self) -> str:
        """REST path of the instrument metadata (the symbol mapping and scales come from it)."""
        ...

    def parse_instruments(self, body: bytes) -> list[Instrument]:
        """The active instruments of the metadata body."""
        ...

    def connection_path(self) -> str:
        """WebSocket path to connect to; subscriptions follow as messages."""
        ...

    def subscribe_messages(self, instruments: Sequence[Instrument], channels: Sequence[str], first_id: int) -> list[bytes]:
        """Messages that subscribe ``channels`` of ``instruments``, each within the venue's limits."""
        ...

    def keepalive_message(self) -> bytes | None:
        """An application-level ping to send every ``keepalive_interval_s`` (None: WebSocket pings suffice)."""
        ...

    def book_snapshot(self, instrument: Instrument) -> SnapshotFetch | None:
        """The REST snapshot that starts this instrument's book, or None when the venue sends
        the snapshot on the socket after a subscription."""
        ...

    def book_resubscribe_messages(self, instruments: Sequence[Instrument], first_id: int) -> list[bytes]:
        """As few messages as the venue allows that make it send fresh book snapshots of
        ``instruments`` on the socket (unsubscribe then subscribe); empty when snapshots come from REST."""
        ...


FeedFactory = Callable[[str, str, int], MarketDataFeed]
"""``(rest_base_url, ws_base_url, book_depth)`` → the venue's feed; ``book_depth`` 0 is the feed's default."""

ParserFactory = Callable[[InstrumentRegistry, bool], ExchangeParser]
"""``(instruments, require_metadata)`` → a parser. With ``require_metadata`` a symbol missing from
``instruments`` is an unknown instrument, never a name guessed from its text (a live deployment);
without it, venues whose text fixes the scales parse captures that come without metadata."""


class UnknownVenue(KeyError):
    """No adapter has this name."""

    def __str__(self) -> str:
        return str(self.args[0])


class OrderEntrySpec(msgspec.Struct, frozen=True):
    """A venue's order entry, as the execution daemons drive it through ccxt's async client: which
    ccxt class, how its URLs point at another host (the simulator), what a client order id may be,
    and which credentials an account needs (read from the environment, never logged); and its
    private stream, which drives the orders' states (REST polling is the fallback)."""

    ccxt_id: str
    urls: Callable[[str], dict[str, Any]]  # REST base URL → ccxt's ``urls`` entry
    client_order_id_max: int  # characters
    client_order_id_alphabet: str  # the characters a client order id may use
    credentials: tuple[str, ...] = ("apiKey", "secret")  # ccxt config keys an account needs
    options: dict[str, Any] = msgspec.field(default_factory=dict)  # ccxt options: spot only, no calls beyond the URLs above
    has: dict[str, Any] = msgspec.field(default_factory=dict)  # ccxt capabilities turned off (calls to hosts we do not point)
    user_stream: Callable[[UserStreamSettings], UserStreamVenue] | None = None  # the private stream (exchanges/<venue>/user_stream.py)
    # the venue's own query by client order id, where ccxt's unified one cannot (client, symbol, id → ccxt order or None)
    fetch_by_client_order_id: Callable[[Any, str, str], Awaitable[dict[str, Any] | None]] | None = None

    def ccxt_config(self, rest_url: str, credentials: dict[str, str]) -> dict[str, Any]:
        """ccxt's config: the real venue's hosts unless ``rest_url`` is given, and the account's keys."""
        config: dict[str, Any] = {
            "enableRateLimit": False, "timeout": 10_000, "options": dict(self.options), "has": dict(self.has), **credentials,
        }  # fmt: skip
        if rest_url:
            config["urls"] = {"api": self.urls(rest_url.rstrip("/"))}
        return config


class VenueAdapter(msgspec.Struct, frozen=True):
    """One venue: its name (the ``exchange`` of its md.raw frames, instruments and canonical events),
    its real endpoints and documented limits, and the factories of its feed, parser and book rule."""

    name: str
    description: str
    rest_url: str  # the real venue's public REST base URL
    ws_url: str  # the real venue's public WebSocket base URL (the feed adds the path)
    limits: ExchangeLimits
    feed_factory: FeedFactory
    parser: ParserFactory
    book_sync: Callable[[str], BookSync]  # symbol → its book rule (depth, where it matters, from the subscription)
    execution: OrderEntrySpec | None = None  # order entry, from the venue's execution.py; None: market data only

    def feed(self, rest_url: str = "", ws_url: str = "", book_depth: int = 0) -> MarketDataFeed:
        """The venue's feed, pointed at ``rest_url``/``ws_url`` (the simulator) or the real hosts."""
        return self.feed_factory(rest_url or self.rest_url, ws_url or self.ws_url, book_depth)


class FormatAdapter(msgspec.Struct, frozen=True):
    """How to read frames written in a format that is not a venue's own (``x-format``: ``ccxt``), for
    whichever exchange they came from."""

    name: str
    parser: Callable[[str, InstrumentRegistry], ExchangeParser]  # (exchange, instruments)
    book_sync: Callable[[str, str], BookSync]  # (exchange, symbol)
