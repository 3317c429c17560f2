"""The exchange adapters normalisation uses: a parser and a book-sync rule per exchange."""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from platform_streams.books.sync import BookSync
from platform_streams.exchanges.base import ExchangeParser
from platform_streams.exchanges.binance.book_sync import BinanceBookSync
from platform_streams.exchanges.binance.parser import BinanceParser
from platform_streams.exchanges.ccxt_unified.book_sync import SnapshotBookSync
from platform_streams.exchanges.ccxt_unified.parser import FORMAT as CCXT_FORMAT
from platform_streams.exchanges.ccxt_unified.parser import CcxtUnifiedParser
from platform_streams.exchanges.coinbase.book_sync import CoinbaseBookSync
from platform_streams.exchanges.coinbase.parser import CoinbaseParser
from platform_streams.exchanges.instruments import InstrumentRegistry
from platform_streams.exchanges.kraken import endpoints as kraken_endpoints
from platform_streams.exchanges.kraken.book_sync import KrakenBookSync
from platform_streams.exchanges.kraken.parser import KrakenParser
from platform_streams.exchanges.okx.book_sync import OkxBookSync
from platform_streams.exchanges.okx.parser import OkxParser


class ExchangeAdapter(msgspec.Struct, frozen=True):
    """How to parse one exchange's frames and keep its books. ``parser(instruments, require_metadata)``:
    with ``require_metadata`` a symbol missing from ``instruments`` is an unknown instrument, never
    a name guessed from its text; ``book_sync(symbol, depth)`` takes the subscribed book depth where
    the exchange's rule depends on it (Kraken's checksum)."""

    parser: Callable[[InstrumentRegistry, bool], ExchangeParser]  # (instruments, require_metadata)
    book_sync: Callable[[str, int], BookSync]


ADAPTERS: dict[str, ExchangeAdapter] = {
    "binance": ExchangeAdapter(BinanceParser, lambda symbol, _depth: BinanceBookSync(symbol)),
    "okx": ExchangeAdapter(lambda instruments, _required: OkxParser(instruments), lambda symbol, _depth: OkxBookSync(symbol)),
    "kraken": ExchangeAdapter(KrakenParser, KrakenBookSync),
    "coinbase": ExchangeAdapter(
        lambda instruments, _required: CoinbaseParser(instruments), lambda symbol, _depth: CoinbaseBookSync(symbol)
    ),
}

DEFAULT_BOOK_DEPTHS: dict[str, int] = {"kraken": kraken_endpoints.DEFAULT_BOOK_DEPTH}
"""Subscribed book depths by exchange, as ingestion subscribes them by default."""


class FormatAdapter(msgspec.Struct, frozen=True):
    """How to parse frames written in a format that is not an exchange's own (``x-format``),
    for whichever exchange they came from."""

    parser: Callable[[str, InstrumentRegistry], ExchangeParser]
    book_sync: Callable[[str, str], BookSync]  # (exchange, symbol)


FORMAT_ADAPTERS: dict[str, FormatAdapter] = {
    CCXT_FORMAT: FormatAdapter(CcxtUnifiedParser, SnapshotBookSync),
}
