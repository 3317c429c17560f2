"""The order book against a naive dict model, under random deltas (hypothesis), plus its edge cases."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from platform_streams.books.order_book import InvalidLevel, OrderBook

prices = st.integers(min_value=1, max_value=60)
sizes = st.integers(min_value=0, max_value=5)  # 0 removes: a third of the changes are removals or no-ops
levels = st.lists(st.tuples(prices, sizes), max_size=12)
deltas = st.lists(st.tuples(levels, levels), max_size=25)


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

    def sorted_bids(self) -> list[tuple[int, int]]:
        return sorted(self.bids.items(), reverse=True)

    def sorted_asks(self) -> list[tuple[int, int]]:
        return sorted(self.asks.items())

    def truncate(self, depth: int) -> None:
        self.bids = dict(self.sorted_bids()[:depth])
        self.asks = dict(self.sorted_asks()[:depth])


def assert_same(book: OrderBook, model: DictModel) -> None:
    assert book.bids() == model.sorted_bids()
    assert book.asks() == model.sorted_asks()
    assert book.best_bid() == (model.sorted_bids()[0] if model.bids else None)
    assert book.best_ask() == (model.sorted_asks()[0] if model.asks else None)
    assert book.top_bids(3) == model.sorted_bids()[:3]
    assert book.top_asks(3) == model.sorted_asks()[:3]
    crossed = bool(model.bids and model.asks) and max(model.bids) >= min(model.asks)
    assert book.is_crossed() == crossed
    assert (book.bid_depth, book.ask_depth) == (len(model.bids), len(model.asks))
    for price in range(0, 62):
        assert book.bid_size(price) == model.bids.get(price, 0)
        assert book.ask_size(price) == model.asks.get(price, 0)


@settings(max_examples=150, deadline=None)
@given(snapshot=st.tuples(levels, levels), changes=deltas, depth=st.integers(min_value=0, max_value=8))
def test_random_deltas_match_the_dict_model(
    snapshot: tuple[list[tuple[int, int]], list[tuple[int, int]]], changes: list, depth: int
) -> None:
    book, model = OrderBook(2, 8), DictModel()
    book.load(*snapshot)
    model.load(*snapshot)
    assert_same(book, model)
    for index, (bids, asks) in enumerate(changes):
        book.apply(bids, asks)
        model.apply(bids, asks)
        if index % 5 == 4:
            assert book.truncate(depth) == max(len(model.bids) - depth, 0) + max(len(model.asks) - depth, 0)
            model.truncate(depth)
        assert_same(book, model)


def test_edges() -> None:
    book = OrderBook(2, 8)
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
    book.clear()
    assert (book.bid_depth, book.ask_depth) == (0, 0)
