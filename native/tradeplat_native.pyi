"""Type stubs of the Rust extension ``tradeplat_native`` (built from ``native/src/`` by ``make native``)."""

from collections.abc import Callable, Iterable

class MalformedTrade(ValueError):
    """A trade frame whose price, quantity or time has no exact canonical value."""

class BinanceTradeParser:
    """Binance ``trade``/``aggTrade`` frames → ``(key, encoded canonical Trade)``.

    ``resolve_symbol(exchange_symbol, price_text, size_text)`` returns
    ``(symbol, price_scale, size_scale, remember)``; it is called once per exchange symbol
    (every time while ``remember`` is False) and its exceptions propagate unchanged."""

    def __init__(self, exchange: str, resolve_symbol: Callable[[str, str, str], tuple[str, int, int, bool]]) -> None: ...
    def parse(self, frame: bytes, receive_ts_ns: int) -> tuple[str, bytes] | None:
        """``(key, encoded Trade)`` of a trade frame, None for a frame it does not take; raises :class:`MalformedTrade`."""
    def __len__(self) -> int:
        """How many exchange symbols have their scales remembered."""

class KrakenBookUpdates:
    """Kraken v1 book updates applied to attached live books → ``(key, encoded canonical BookDelta)``.

    ``resolve_symbol(pair, price_text, size_text)`` returns ``(symbol, price_scale, size_scale,
    remember)`` as the parser resolves the pair. An update is taken only when its book is attached,
    its sync rule still has it live at the frame's depth, the frame comes from the attached
    connection at the parser's scales, and it applies with a matching checksum and an uncrossed book;
    otherwise None, with the book untouched."""

    def __init__(self, exchange: str, resolve_symbol: Callable[[str, str, str], tuple[str, int, int, bool]]) -> None: ...
    def attach(self, symbol: str, sync: object, connection_id: str) -> None:
        """Let updates of ``symbol`` apply to ``sync.book`` (``sync``: a ``BookSync``, given ``last_sequence``)."""
    def detach(self, symbol: str) -> None: ...
    def apply(self, frame: bytes, receive_ts_ns: int, connection_id: str) -> tuple[str, bytes] | None:
        """``(key, encoded BookDelta)`` of an update applied and verified, or None (the book untouched)."""
    def __len__(self) -> int:
        """How many books are attached."""

class OkxBookUpdates:
    """OKX ``books``/``books-l2-tbt``/``books50-l2-tbt`` update pushes applied to attached live books →
    ``(key, encoded canonical BookDelta)``; as :class:`KrakenBookUpdates`, with OKX's rule: the push must
    continue the book (``prevSeqId``), carry a checksum the sync rule verifies, and apply with it
    matching and the book uncrossed. Otherwise None, with the book untouched."""

    def __init__(self, exchange: str, resolve_symbol: Callable[[str, str, str], tuple[str, int, int, bool]]) -> None: ...
    def attach(self, symbol: str, sync: object, connection_id: str) -> None: ...
    def detach(self, symbol: str) -> None: ...
    def apply(self, frame: bytes, receive_ts_ns: int, connection_id: str) -> tuple[str, bytes] | None: ...
    def __len__(self) -> int: ...

class BinanceDepthUpdates:
    """Binance combined-stream ``depthUpdate`` diffs applied to attached live books →
    ``(key, encoded canonical BookDelta)``; as :class:`KrakenBookUpdates`, with Binance's rule: the
    book is bridged to its snapshot, the diff is newer than it and starts where the last one ended
    (``U == u + 1``, ``pu == u`` where sent), and it applies without crossing the book. Otherwise
    None, with the book untouched."""

    def __init__(self, exchange: str, resolve_symbol: Callable[[str, str, str], tuple[str, int, int, bool]]) -> None: ...
    def attach(self, symbol: str, sync: object, connection_id: str) -> None: ...
    def detach(self, symbol: str) -> None: ...
    def apply(self, frame: bytes, receive_ts_ns: int, connection_id: str) -> tuple[str, bytes] | None: ...
    def __len__(self) -> int: ...

class BinanceTopOfBook:
    """Binance combined-stream ``bookTicker`` frames → ``(key, encoded canonical BestBidOffer)``; None for
    any other frame and for any it cannot map exactly (the Python parser then reads or reports it)."""

    def __init__(self, exchange: str, resolve_symbol: Callable[[str, str, str], tuple[str, int, int, bool]]) -> None: ...
    def parse(self, frame: bytes, receive_ts_ns: int) -> tuple[str, bytes] | None: ...

class OkxTopOfBook:
    """OKX ``bbo-tbt`` pushes of one entry → ``(key, encoded canonical BestBidOffer)``; None for any other
    frame and for any it cannot map exactly (the Python parser then reads or reports it)."""

    def __init__(self, exchange: str, resolve_symbol: Callable[[str, str, str], tuple[str, int, int, bool]]) -> None: ...
    def parse(self, frame: bytes, receive_ts_ns: int) -> tuple[str, bytes] | None: ...

class OkxTradeParser:
    """OKX ``trades`` pushes of one trade → ``(key, encoded canonical Trade)``; None for any other frame
    and for any it cannot map exactly (the Python parser then reads or reports it)."""

    def __init__(self, exchange: str, resolve_symbol: Callable[[str, str, str], tuple[str, int, int, bool]]) -> None: ...
    def parse(self, frame: bytes, receive_ts_ns: int) -> tuple[str, bytes] | None: ...

class KrakenTradeParser:
    """Kraken v1 ``trade`` frames → ``(key, [encoded canonical Trade, ...])`` in frame order; None for any
    other frame and for any frame with a trade it cannot map exactly (the parser then reports it)."""

    def __init__(self, exchange: str, resolve_symbol: Callable[[str, str, str], tuple[str, int, int, bool]]) -> None: ...
    def parse(self, frame: bytes, receive_ts_ns: int) -> tuple[str, list[bytes]] | None: ...

class KrakenTopOfBook:
    """Kraken v1 ``ticker`` frames → ``(key, encoded canonical BestBidOffer)``; None for any other frame
    and for any it cannot map exactly."""

    def __init__(self, exchange: str, resolve_symbol: Callable[[str, str, str], tuple[str, int, int, bool]]) -> None: ...
    def parse(self, frame: bytes, receive_ts_ns: int) -> tuple[str, bytes] | None: ...

class InvalidLevel(ValueError):
    """A level with a negative price or size."""

class LevelTextError(ValueError):
    """A book level that a checksum cannot spell: a digit would be dropped at the text's decimals, or a scale is out of range."""

class OrderBook:
    """Bids and asks of one instrument at fixed scales; a level of size 0 is a removal.

    Prices and sizes are ints that fit a signed 128-bit integer (``OverflowError`` beyond);
    a level is a ``(price, size)`` pair. Lists returned hold ``(price, size)`` tuples, best first."""

    @property
    def price_scale(self) -> int: ...
    @property
    def size_scale(self) -> int: ...
    @property
    def bid_depth(self) -> int: ...
    @property
    def ask_depth(self) -> int: ...
    def __init__(self, price_scale: int, size_scale: int) -> None: ...
    def load(self, bids: Iterable[tuple[int, int]], asks: Iterable[tuple[int, int]]) -> None:
        """Replace the whole book (a snapshot), in any level order; zero sizes are skipped, the last size of a price wins.
        Raises :class:`InvalidLevel` when a kept level is negative (that side is left unchanged)."""
    def clear(self) -> None: ...
    def apply(self, bids: Iterable[tuple[int, int]], asks: Iterable[tuple[int, int]]) -> None:
        """Apply changed levels in order: each sets its price's size, 0 removes the level; raises :class:`InvalidLevel`."""
    def set_bid(self, price: int, size: int) -> None: ...
    def set_ask(self, price: int, size: int) -> None: ...
    def best_bid(self) -> tuple[int, int] | None:
        """Highest bid as ``(price, size)``, or None when there are no bids."""
    def best_ask(self) -> tuple[int, int] | None:
        """Lowest ask as ``(price, size)``, or None when there are no asks."""
    def top_bids(self, depth: int) -> list[tuple[int, int]]:
        """The best ``depth`` bids, best (highest) first."""
    def top_asks(self, depth: int) -> list[tuple[int, int]]:
        """The best ``depth`` asks, best (lowest) first."""
    def bids(self) -> list[tuple[int, int]]: ...
    def asks(self) -> list[tuple[int, int]]: ...
    def bid_size(self, price: int) -> int:
        """Size at a bid price (0 when there is no such level)."""
    def ask_size(self, price: int) -> int:
        """Size at an ask price (0 when there is no such level)."""
    def is_crossed(self) -> bool:
        """True when the best bid is at or above the best ask (a locked book counts as crossed)."""
    def truncate(self, depth: int) -> int:
        """Keep only the best ``depth`` levels on each side; returns how many levels were dropped."""
    def truncate_levels(self, depth: int) -> tuple[list[int], list[int]]:
        """Keep only the best ``depth`` levels on each side; returns the dropped bid and ask prices, worst first."""
    def okx_checksum(self) -> int:
        """OKX's CRC32 of the best 25 bids and asks interleaved, in shortest decimal text, as a signed 32-bit int."""
    def kraken_checksum(self, price_text_scale: int, size_text_scale: int) -> int:
        """Kraken v1's CRC32 (unsigned) of the best 10 asks then bids, written with the given decimals without the dot
        and leading zeros; raises :class:`LevelTextError` when a level cannot be written so."""
