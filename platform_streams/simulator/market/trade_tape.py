"""The most recent trades and aggregate trades of every instrument, for the recent-trades REST endpoints.

Each instrument keeps fixed-width integer records in a flat ``array('q')`` used as
a ring of ``capacity`` records, so thousands of busy instruments stay within a few
tens of megabytes however long the run.
"""

from __future__ import annotations

from array import array

#: A trade record: (trade_id, price_ticks, lots, buyer_is_maker, time_ms)
TRADE_WIDTH = 5
#: An aggregate record: (aggregate_id, price_ticks, lots, first_trade_id, last_trade_id, buyer_is_maker, time_ms)
AGGREGATE_WIDTH = 7


class RecordRing:
    """The last ``capacity`` records of ``width`` integers each, oldest first when read."""

    __slots__ = ("_data", "_width", "_capacity", "_next")

    def __init__(self, width: int, capacity: int) -> None:
        self._data = array("q")
        self._width = width
        self._capacity = capacity
        self._next = 0  # record slot written next once the ring is full

    def append(self, record: tuple[int, ...]) -> None:
        width = self._width
        if len(self._data) < self._capacity * width:
            self._data.extend(record)
            return
        start = self._next * width
        self._data[start : start + width] = array("q", record)
        self._next = (self._next + 1) % self._capacity

    def records(self) -> list[tuple[int, ...]]:
        data, width = self._data, self._width
        count = len(data) // width
        order = [(self._next + k) % count for k in range(count)] if count == self._capacity else range(count)
        return [tuple(data[i * width : (i + 1) * width]) for i in order]


class TradeTape:
    """Recent trades and aggregate trades per instrument."""

    def __init__(self, instruments: int, capacity: int) -> None:
        self.capacity = capacity
        self._trades = [RecordRing(TRADE_WIDTH, capacity) for _ in range(instruments)]
        self._aggregates = [RecordRing(AGGREGATE_WIDTH, capacity) for _ in range(instruments)]

    def add_trade(self, instrument: int, trade_id: int, price: int, lots: int, buyer_is_maker: bool, ts_ns: int) -> None:
        self._trades[instrument].append((trade_id, price, lots, int(buyer_is_maker), ts_ns // 1_000_000))

    def add_aggregate(
        self, instrument: int, aggregate_id: int, price: int, lots: int, first: int, last: int, buyer_is_maker: bool, ts_ns: int
    ) -> None:
        self._aggregates[instrument].append((aggregate_id, price, lots, first, last, int(buyer_is_maker), ts_ns // 1_000_000))

    def trades(self, instrument: int) -> list[tuple[int, ...]]:
        return self._trades[instrument].records()

    def aggregates(self, instrument: int) -> list[tuple[int, ...]]:
        return self._aggregates[instrument].records()
