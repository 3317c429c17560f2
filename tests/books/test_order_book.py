"""The native order book against a naive dict model, under random operations (hypothesis), plus its edge cases:
ints past 64 bits, ints past 128 bits, the shapes levels come in, and what an invalid level leaves behind."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from platform_streams.books.order_book import InvalidLevel, OrderBook

HUGE = (2**63 - 1, 2**63, 2**64 + 3, 2**127 - 1)  # past a signed 64-bit integer, up to the largest the book holds
prices = st.integers(min_value=0, max_value=60) | st.sampled_from(HUGE)
sizes = st.integers(min_value=0, max_value=5) | st.sampled_from(HUGE)  # 0 removes: many changes are removals or no-ops
levels = st.lists(st.tuples(prices, sizes), max_size=12)
depths = st.integers(min_value=-2, max_value=14)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("apply"), levels, levels),
        st.tuples(st.just("load"), levels, levels),
        st.tuples(st.sampled_from(["set_bid", "set_ask"]), prices, sizes),
        st.tuples(st.sampled_from(["truncate", "truncate_levels"]), depths),
        st.tuples(st.just("clear")),
    ),
    max_size=30,
)


class DictModel:
    """The obvious book: one dict per side, sorted on demand."""

    def __init__(self) -> None:
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}

    def load(self, bids: list[tuple[int, int]], asks: list[tuple[int, int]]) -> None:
        self.bids = {price: size for price, size in bids if size}
        self.asks = {price: size for price, size in asks if size}

    def apply(self, bids: list[tuple[int, int]], asks: list[tuple[int, int]]) -> None:
        for side, changes in ((self.bids, bids), (self.asks, asks)):
            for price, size in changes:
                if size:
                    side[price] = size
                else:
                    side.pop(price, None)

    def set_bid(self, price: int, size: int) -> None:
        self.apply([(price, size)], [])

    def set_ask(self, price: int, size: int) -> None:
        self.apply([], [(price, size)])

    def clear(self) -> None:
        self.load([], [])

    def sorted_bids(self) -> list[tuple[int, int]]:
        return sorted(self.bids.items(), reverse=True)

    def sorted_asks(self) -> list[tuple[int, int]]:
        return sorted(self.asks.items())

    def truncate_levels(self, depth: int) -> tuple[list[int], list[int]]:
        """The dropped prices, worst first."""
        keep = max(depth, 0)
        dropped = ([p for p, _ in self.sorted_bids()[keep:]][::-1], [p for p, _ in self.sorted_asks()[keep:]][::-1])
        self.bids = dict(self.sorted_bids()[:keep])
        self.asks = dict(self.sorted_asks()[:keep])
        return dropped

    def truncate(self, depth: int) -> int:
        bids, asks = self.truncate_levels(depth)
        return len(bids) + len(asks)


def assert_same(book: OrderBook, model: DictModel, depth: int) -> None:
    assert book.bids() == model.sorted_bids()
    assert book.asks() == model.sorted_asks()
    assert book.best_bid() == (model.sorted_bids()[0] if model.bids else None)
    assert book.best_ask() == (model.sorted_asks()[0] if model.asks else None)
    assert book.top_bids(depth) == model.sorted_bids()[: max(depth, 0)]
    assert book.top_asks(depth) == model.sorted_asks()[: max(depth, 0)]
    crossed = bool(model.bids and model.asks) and max(model.bids) >= min(model.asks)
    assert book.is_crossed() == crossed
    assert (book.bid_depth, book.ask_depth) == (len(model.bids), len(model.asks))
    for price in [*range(0, 62), *HUGE]:
        assert book.bid_size(price) == model.bids.get(price, 0)
        assert book.ask_size(price) == model.asks.get(price, 0)


@settings(max_examples=300, deadline=None)
@given(snapshot=st.tuples(levels, levels), steps=operations, depth=depths)
def test_random_operations_match_the_dict_model(
    snapshot: tuple[list[tuple[int, int]], list[tuple[int, int]]], steps: list[tuple[Any, ...]], depth: int
) -> None:
    book, model = OrderBook(2, 8), DictModel()
    book.load(*snapshot)
    model.load(*snapshot)
    assert_same(book, model, depth)
    for name, *arguments in steps:
        assert getattr(book, name)(*arguments) == getattr(model, name)(*arguments), (name, arguments)
        assert_same(book, model, depth)


def test_edges() -> None:
    book = OrderBook(2, 8)
    assert (book.price_scale, book.size_scale) == (2, 8)
    assert (book.best_bid(), book.best_ask(), book.is_crossed(), book.top_bids(5)) == (None, None, False, [])
    book.apply([(100, 0)], [])  # removing an absent level is a no-op
    book.load([(99, 0), (100, 1)], [(101, 2)])  # a snapshot's zero sizes are skipped
    assert book.bids() == [(100, 1)] and book.asks() == [(101, 2)]
    book.set_bid(101, 1)
    assert book.is_crossed()  # a locked book counts as crossed
    book.set_ask(101, 0)
    assert not book.is_crossed() and book.top_asks(0) == []
    with pytest.raises(InvalidLevel):
        book.set_bid(99, -1)
    with pytest.raises(InvalidLevel):
        book.load([(-5, 1)], [])
    assert repr(book) == "OrderBook(bids=2, asks=0, best_bid=(101, 1), best_ask=None)"
    book.clear()
    assert (book.bid_depth, book.ask_depth) == (0, 0)


def test_an_invalid_level_stops_the_change_where_it_is() -> None:
    """As the Python book did: earlier levels of a delta stay applied; a refused snapshot side is left as it was."""
    assert issubclass(InvalidLevel, ValueError)
    book = OrderBook(0, 0)
    book.load([(10, 1)], [(20, 1)])
    with pytest.raises(InvalidLevel, match=r"level \(12, -1\) has a negative price or size"):
        book.apply([(11, 1), (12, -1), (13, 1)], [(21, 1)])
    assert (book.bids(), book.asks()) == ([(11, 1), (10, 1)], [(20, 1)])
    book.apply([(-1, 0)], [])  # a removal of a price the book cannot hold is still a no-op
    with pytest.raises(InvalidLevel, match="snapshot"):
        book.load([(5, 1)], [(6, -2)])
    assert (book.bids(), book.asks()) == ([(5, 1)], [(20, 1)])
    book.load([(7, -1), (7, 2)], [])  # only a price's last size counts in a snapshot
    assert book.bids() == [(7, 2)]


def test_ints_past_64_bits_are_exact_and_past_128_bits_are_refused() -> None:
    book = OrderBook(18, 18)
    big = 2**127 - 1
    book.load([(big, big), (2**64, 1)], [(big - 1, 2**100)])  # a book may be crossed: it only keeps levels
    assert book.best_bid() == (big, big) and book.bids() == [(big, big), (2**64, 1)]
    assert book.asks() == [(big - 1, 2**100)] and book.is_crossed()
    assert book.truncate_levels(1) == ([2**64], [])
    for bad in (2**127, -(2**127) - 1, 10**60):
        with pytest.raises(OverflowError, match="does not fit a signed 128-bit integer"):
            book.set_bid(bad, 1)
        with pytest.raises(OverflowError, match="size"):
            book.apply([(1, bad)], [])
        with pytest.raises(OverflowError):
            book.bid_size(bad)
    with pytest.raises(InvalidLevel):
        book.set_ask(-(2**127), 1)  # the smallest i128 fits, and is refused as negative
    assert book.bids() == [(big, big)]


def test_levels_come_as_tuples_lists_or_any_pairs() -> None:
    book = OrderBook(0, 0)
    book.load(((3, 1), [4, 2]), iter([(9, 1)]))
    book.apply((level for level in [(5, 1), [3, 0]]), [range(8, 10)])
    assert (book.bids(), book.asks()) == ([(5, 1), (4, 2)], [(8, 9), (9, 1)])
    assert all(type(level) is tuple for level in book.bids())
    for bad in ([(1, 2, 3)], [(1,)], [7], [(1.5, 1)], [("1", 1)]):
        with pytest.raises((ValueError, TypeError)):
            book.apply(bad, [])
    assert book.bids() == [(5, 1), (4, 2)]
