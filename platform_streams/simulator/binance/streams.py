"""Binance spot stream names: ``<symbol>@<channel>`` parsed into a channel and an instrument index.

Symbols are Binance's concatenation of base and quote (``BTCUSDT``); stream names
use them in lower case, as Binance requires.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from platform_streams.simulator.market.universe import Instrument, UniverseError


class Channel(IntEnum):
    """Market data channels of the simulated Binance, with the stream-name suffix of each."""

    TRADE = 0
    AGG_TRADE = 1
    BOOK_TICKER = 2
    DEPTH_100MS = 3
    DEPTH_1000MS = 4
    KLINE_1M = 5
    DEPTH5_100MS = 6
    DEPTH10_100MS = 7
    DEPTH20_100MS = 8
    DEPTH5_1000MS = 9
    DEPTH10_1000MS = 10
    DEPTH20_1000MS = 11
    EXECUTION_REPORT = 12  # user data stream events share the ground-truth channel table
    ACCOUNT_POSITION = 13

    @property
    def suffix(self) -> str:
        return _SUFFIXES[self]


_SUFFIXES = {
    Channel.TRADE: "trade",
    Channel.AGG_TRADE: "aggTrade",
    Channel.BOOK_TICKER: "bookTicker",
    Channel.DEPTH_100MS: "depth@100ms",
    Channel.DEPTH_1000MS: "depth",
    Channel.KLINE_1M: "kline_1m",
    Channel.DEPTH5_100MS: "depth5@100ms",
    Channel.DEPTH10_100MS: "depth10@100ms",
    Channel.DEPTH20_100MS: "depth20@100ms",
    Channel.DEPTH5_1000MS: "depth5",
    Channel.DEPTH10_1000MS: "depth10",
    Channel.DEPTH20_1000MS: "depth20",
    Channel.EXECUTION_REPORT: "executionReport",
    Channel.ACCOUNT_POSITION: "outboundAccountPosition",
}
_BY_SUFFIX = {suffix: channel for channel, suffix in _SUFFIXES.items() if channel < Channel.EXECUTION_REPORT}
DIFF_DEPTH_CHANNELS = (Channel.DEPTH_100MS, Channel.DEPTH_1000MS)
#: Partial book channels: (channel, levels, period_ms)
PARTIAL_DEPTH_CHANNELS = (
    (Channel.DEPTH5_100MS, 5, 100),
    (Channel.DEPTH10_100MS, 10, 100),
    (Channel.DEPTH20_100MS, 20, 100),
    (Channel.DEPTH5_1000MS, 5, 1000),
    (Channel.DEPTH10_1000MS, 10, 1000),
    (Channel.DEPTH20_1000MS, 20, 1000),
)


@dataclass(frozen=True, slots=True)
class StreamKey:
    """A market data stream: one channel of one instrument."""

    channel: Channel
    instrument: int


class BinanceSymbols:
    """Binance's names of one exchange's instruments, and the lookups both ways."""

    def __init__(self, instruments: tuple[Instrument, ...]) -> None:
        self.names = [f"{i.base}{i.quote}" for i in instruments]
        if len(set(self.names)) != len(self.names):
            raise UniverseError("two instruments would share one Binance symbol")
        self.name_bytes = [name.encode() for name in self.names]
        self._index = {name: i for i, name in enumerate(self.names)}
        self._lower_index = {name.lower(): i for i, name in enumerate(self.names)}

    def lookup(self, symbol: str) -> int | None:
        """Instrument index of an upper-case REST symbol (``BTCUSDT``), or None."""
        return self._index.get(symbol)

    def parse_stream(self, name: str) -> StreamKey | None:
        """``btcusdt@depth@100ms`` → StreamKey, or None if it is not a stream this exchange has."""
        symbol, _, suffix = name.partition("@")
        instrument = self._lower_index.get(symbol)
        channel = _BY_SUFFIX.get(suffix)
        if instrument is None or channel is None:
            return None
        return StreamKey(channel, instrument)

    def stream_name(self, key: StreamKey) -> str:
        return f"{self.names[key.instrument].lower()}@{key.channel.suffix}"
