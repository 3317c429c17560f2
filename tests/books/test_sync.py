"""What every exchange sync rule shares: routing checks, external resets, the resync event, scale changes."""

from __future__ import annotations

import pytest

from platform_streams.books.sync import BookSyncMisuse, SyncStatus
from platform_streams.exchanges.coinbase.book_sync import CoinbaseBookSync
from platform_streams.schemas import BookDelta, BookResync, BookSnapshot


def _snapshot(price_scale: int = 2) -> BookSnapshot:
    return BookSnapshot("coinbase", "BTC/USD", 10, 11, 11, [(100, 1)], [(101, 1)], price_scale, 8)


def test_an_event_of_another_instrument_is_a_programming_error() -> None:
    sync = CoinbaseBookSync("ETH/USD")
    with pytest.raises(BookSyncMisuse, match="coinbase:BTC/USD event given to the coinbase:ETH/USD book"):
        sync.on_event(_snapshot())


def test_reset_invalidates_the_book_until_the_next_snapshot() -> None:
    sync = CoinbaseBookSync("BTC/USD")
    sync.on_event(_snapshot())
    result = sync.reset("reconnected", 20, 21)
    assert result.status is SyncStatus.RESYNC
    assert result.resync == BookResync("coinbase", "BTC/USD", 20, 21, 11, "reconnected", 0, 0)
    delta = BookDelta("coinbase", "BTC/USD", 30, 31, 31, 31, 0, [(100, 2)], [], 2, 8)
    assert sync.on_event(delta).status is SyncStatus.DROPPED
    assert sync.on_event(_snapshot()).applied == (_snapshot(),)
    assert sync.on_event(delta).applied == (delta,)


def test_a_delta_at_other_scales_asks_for_a_resync_and_a_new_snapshot_adopts_them() -> None:
    sync = CoinbaseBookSync("BTC/USD")
    sync.on_event(_snapshot())
    rescaled = BookDelta("coinbase", "BTC/USD", 30, 31, 31, 31, 0, [(1000, 2)], [], 3, 8)
    assert sync.on_event(rescaled).reason == "price or size scale changed"
    assert sync.on_event(BookDelta("coinbase", "BTC/USD", 0, 0, 1, 1, 0, [], [], 0, 0)).status is SyncStatus.DROPPED
    sync.on_event(_snapshot(price_scale=3))
    assert sync.book is not None and sync.book.price_scale == 3
    empty_at_other_scales = BookDelta("coinbase", "BTC/USD", 0, 0, 2, 2, 0, [], [], 0, 0)
    assert sync.on_event(empty_at_other_scales).status is SyncStatus.APPLIED  # no levels, no conflict
