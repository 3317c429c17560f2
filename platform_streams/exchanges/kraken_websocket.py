"""What Kraken's two WebSocket versions share, defined once for their venue packages (``kraken/`` for v1,
``kraken_v2/`` for v2): the host, the book depths and the limits Kraken documents for both, the feed's
settings, and the parser's symbol naming and book subscriptions.

Both versions are served by one host (v2 at the path ``/v2``) with book depths of 10, 25, 100, 500
or 1000, and Kraken documents the same limits for both: a connection limit enforced by Cloudflare
of about 150 connection attempts per rolling 10 minutes per IP, and the REST public-endpoint budget
(about one call per second per IP). Both feeds load instruments from REST ``AssetPairs``, get book
snapshots on the socket, and ping every 30 s; both parsers name pairs ``BASE/QUOTE`` with Kraken's
asset aliases (``XBT``) resolved when no metadata is given.

Private REST (Rate limits, Starter tier): an account's API counter may not pass 15, rises by 1
per call (2 for the history calls) and decays by 0.33 per second; order entry counts against the
order rate counter instead (60, decaying by 1 per second), kept per pair by Kraken and budgeted
here per account (stricter, never over). A cancel costs the penalty of cancelling an order
younger than 5 s (8), the most it can cost, since the budget does not know the order's age.
"""

from __future__ import annotations

from platform_streams.exchanges.base import BookSubscription, ExchangeParser, UnknownInstrument
from platform_streams.exchanges.instruments import Instrument, InstrumentRegistry
from platform_streams.exchanges.kraken.instruments import symbol_from_wsname
from platform_streams.exchanges.limits import ExchangeLimits, RateLimit, RequestLimit, RequestLimits
from platform_streams.exchanges.symbol_scales import SymbolScalesCache
from platform_streams.exchanges.venue_adapter import SnapshotFetch

WS_URL = "wss://ws.kraken.com"
REST_BASE_URL = "https://api.kraken.com"
ASSET_PAIRS_PATH = "/0/public/AssetPairs"
BOOK_DEPTHS = (10, 25, 100, 500, 1000)
DEFAULT_BOOK_DEPTH = 10
"""The depth ingestion subscribes books at unless configured (normalisers read a book's depth from
v1's channel names and v2's subscribe acknowledgements)."""


def documented_limits(exchange: str, source: str) -> ExchangeLimits:
    """The limits Kraken documents for public market data (either version), as venue ``exchange``'s."""
    return ExchangeLimits(
        exchange=exchange,
        streams_per_connection=None,
        subscribe_messages=None,
        new_connections=RateLimit(150, 600.0, "ip", "connection attempts (Cloudflare)"),
        connection_lifetime_s=None,
        rest_budget=RateLimit(1, 1.0, "ip", "public REST calls"),
        rest_weights={ASSET_PAIRS_PATH: 1},
        source=source,
        requests=RequestLimits(
            limits={
                "rest": RequestLimit(1, "ip", "public REST calls", window_s=1.0),
                "api": RequestLimit(15, "account", "private calls (history calls 2)", decay_per_s=0.33),
                "orders": RequestLimit(60, "account", "orders (cancels: the young-order penalty)", decay_per_s=1.0),
            },
            costs={
                "markets": {"rest": 1},  # AssetPairs
                "place": {"orders": 1},
                "cancel": {"orders": 8},
                "query": {"api": 1},  # QueryOrders
                "open_orders": {"api": 1},
                "fills": {"api": 2},  # TradesHistory
                "snapshot": {"rest": 1},
                "history": {"rest": 1},  # OHLC
            },
        ),
    )


class KrakenWebSocketFeed:
    """The part of a Kraken feed both versions share: URLs, the book depth, AssetPairs metadata, book
    snapshots on the socket, and the keep-alive interval. A version's feed adds its ``exchange``,
    ``limits``, path, subscriptions and ping."""

    exchange: str
    default_channels = ("trade", "book", "ticker")
    keepalive_interval_s = 30.0

    def __init__(self, rest_base_url: str = REST_BASE_URL, ws_base_url: str = WS_URL, book_depth: int = 0) -> None:
        """Books at ``book_depth`` (:data:`DEFAULT_BOOK_DEPTH` when 0); raises ValueError for a depth Kraken does not offer."""
        self.rest_base_url = rest_base_url.rstrip("/")
        self.ws_base_url = ws_base_url.rstrip("/")
        self.book_depth = book_depth or DEFAULT_BOOK_DEPTH
        if self.book_depth not in BOOK_DEPTHS:
            raise ValueError(f"{self.exchange} book depth must be one of {BOOK_DEPTHS}, not {book_depth}")

    def instruments_path(self) -> str:
        return ASSET_PAIRS_PATH

    def book_snapshot(self, instrument: Instrument) -> SnapshotFetch | None:
        return None  # a book subscription starts with a snapshot


class KrakenWebSocketParser(ExchangeParser):
    """The part of a Kraken parser both versions share: the scales of each pair (from AssetPairs, or from
    its text without metadata), the venue's name of a symbol, and one subscription object per book."""

    def __init__(self, instruments: InstrumentRegistry | None = None, require_metadata: bool = False) -> None:
        # without metadata a symbol's name is split by known quote assets (captures, replays); a
        # live normaliser requires metadata, since a split can be wrong (``ADAEUR``: ``AD/AEUR``?)
        self._scales = SymbolScalesCache(self.exchange, instruments, None if require_metadata else self._symbol_or_unknown)
        self._subscriptions: dict[tuple[str, int], tuple[BookSubscription, ...]] = {}

    def venue_symbol(self, symbol: str) -> str:
        return self._scales.venue_symbol(symbol)

    def _symbol_or_unknown(self, name: str) -> str:
        """The symbol of a pair's WebSocket name (``XBT/USD`` on v1, ``BTC/USD`` on v2: ``BTC/USD``)."""
        try:
            return symbol_from_wsname(name)
        except ValueError as exc:
            raise UnknownInstrument(self.exchange, str(exc)) from None

    def _book_subscription(self, symbol: str, depth: int) -> tuple[BookSubscription, ...]:
        """The subscription of ``symbol``'s book at ``depth`` (one object per symbol and depth)."""
        found = self._subscriptions.get((symbol, depth))
        if found is None:
            found = self._subscriptions[(symbol, depth)] = (BookSubscription(symbol, depth),)
        return found
