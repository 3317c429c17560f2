"""Coinbase level2 on the real capture: every book rebuilds without crossing; no snapshot, no book."""

from __future__ import annotations

import collections

from platform_streams.books.sync import SyncStatus
from platform_streams.exchanges.coinbase.book_sync import CoinbaseBookSync
from platform_streams.exchanges.coinbase.parser import CoinbaseParser
from platform_streams.exchanges.instruments import InstrumentRegistry
from platform_streams.schemas import BestBidOffer, BookDelta, BookSnapshot
from tests.exchanges.captures import received_frames
from tests.exchanges.coinbase.conftest import FEED


def test_all_ten_books_rebuild_and_never_cross(coinbase_instruments: InstrumentRegistry) -> None:
    parser = CoinbaseParser(coinbase_instruments)
    syncs: dict[str, CoinbaseBookSync] = {}
    statuses: collections.Counter[SyncStatus] = collections.Counter()
    tickers_equal_top = 0
    for record in received_frames(FEED):
        for event in parser.parse(record.frame, record.receive_ts_ns):
            if isinstance(event, BookSnapshot | BookDelta):
                statuses[syncs.setdefault(event.symbol, CoinbaseBookSync(event.symbol)).on_event(event).status] += 1
            elif isinstance(event, BestBidOffer) and event.symbol in syncs:
                book = syncs[event.symbol].book
                assert book is not None
                best_bid, best_ask = book.best_bid(), book.best_ask()
                tickers_equal_top += (
                    best_bid is not None
                    and best_ask is not None
                    and (best_bid[0], best_ask[0]) == (event.bid_price, event.ask_price)
                )
    assert statuses == {SyncStatus.APPLIED: 10 + 9_719}
    assert len(syncs) == 10
    assert tickers_equal_top == 100  # INDEX.md: 100 of 107 tickers (ticker is not synchronised with level2)


def test_updates_before_a_snapshot_are_dropped_and_a_crossed_book_resyncs() -> None:
    sync = CoinbaseBookSync("BTC/USD")
    delta = BookDelta("coinbase", "BTC/USD", 0, 1, 1, 1, 0, [(100, 1)], [], 2, 8)
    assert sync.on_delta(delta).status is SyncStatus.DROPPED
    sync.on_snapshot(BookSnapshot("coinbase", "BTC/USD", 0, 0, 1, [(100, 1)], [(101, 1)], 2, 8))
    crossed = sync.on_delta(BookDelta("coinbase", "BTC/USD", 0, 2, 2, 2, 0, [], [(99, 1)], 2, 8))
    assert crossed.status is SyncStatus.RESYNC and crossed.resync is not None
    assert (crossed.resync.exchange, crossed.resync.symbol, crossed.resync.receive_ts_ns) == ("coinbase", "BTC/USD", 2)
