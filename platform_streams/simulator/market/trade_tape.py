"""The most recent trades and aggregate trades of every instrument, for the recent-trades REST endpoints.

Each instrument keeps fixed-width integer records in a flat ``array('q')`` bounded
to its last ``capacity`` records (and a quarter more between cuts), so thousands of
busy instruments stay within a few tens of megabytes however long the run.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable

from platform_streams.simulator.market.market_batch import AggregateTrade, TradePrint

#: A trade record: (trade_id, price_ticks, lots, buyer_is_maker, time_ms)
TRADE_WIDTH = 5
#: An aggregate record: (aggregate_id, price_ticks, lots, first_trade_id, last_trade_id, buyer_is_maker, time_ms)
AGGREGATE_WIDTH = 7


class RecordRing:
    """The last ``capacity`` records of ``width`` integers each, oldest first when read.

    :class:`TradeTape` appends records to the end of :attr:`data` (a C-level
    ``extend``); once it holds a quarter more than ``capacity`` records, the oldest
    ones past ``capacity`` are cut off in one ``del``, so an append never rewrites a
    slot in Python.
    """

    __slots__ = ("data", "width", "capacity", "limit")

    def __init__(self, width: int, capacity: int) -> None:
        self.data = array("q")
        self.width = width
        self.capacity = capacity
        self.limit = (capacity + max(1, capacity // 4)) * width  # values held before the oldest are cut off

    def records(self) -> list[tuple[int, ...]]:
        data, width = self.data, self.width
        start = max(0, len(data) - self.capacity * width)
        return [tuple(data[i : i + width]) for i in range(start, len(data), width)]


class TradeTape:
    """Recent trades and aggregate trades per instrument, appended in bulk from the market's batches."""

    def __init__(self, instruments: int, capacity: int) -> None:
        self.capacity = capacity
        self._trades = [RecordRing(TRADE_WIDTH, capacity) for _ in range(instruments)]
        self._aggregates = [RecordRing(AGGREGATE_WIDTH, capacity) for _ in range(instruments)]

    def add_trades(self, trades: Iterable[TradePrint]) -> None:
        rings, keep = self._trades, self.capacity * TRADE_WIDTH
        for instrument, trade_id, price, lots, buyer_is_maker, ts_ns in trades:
            ring = rings[instrument]  # one pass over the batch: the ring's append is inlined
            data = ring.data
            data.extend((trade_id, price, lots, 1 if buyer_is_maker else 0, ts_ns // 1_000_000))
            if len(data) >= ring.limit:
                del data[: len(data) - keep]

    def add_aggregates(self, aggregates: Iterable[AggregateTrade]) -> None:
        rings, keep = self._aggregates, self.capacity * AGGREGATE_WIDTH
        for instrument, aggregate_id, price, lots, first, last, buyer_is_maker, ts_ns in aggregates:
            ring = rings[instrument]
            data = ring.data
            data.extend((aggregate_id, price, lots, first, last, 1 if buyer_is_maker else 0, ts_ns // 1_000_000))
            if len(data) >= ring.limit:
                del data[: len(data) - keep]

    def trades(self, instrument: int) -> list[tuple[int, ...]]:
        return self._trades[instrument].records()

    def aggregates(self, instrument: int) -> list[tuple[int, ...]]:
        return self._aggregates[instrument].records()
