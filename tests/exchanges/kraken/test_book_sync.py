"""Kraken v1's book rule on the real capture: every checksum verifies; a lost update, truncation and crossing."""

from __future__ import annotations

import collections
import zlib

import pytest

from platform_streams.books.order_book import OrderBook
from platform_streams.books.sync import BookChecksum, SyncStatus
from platform_streams.exchanges.base import ParsedFrame
from platform_streams.exchanges.instruments import InstrumentRegistry
from platform_streams.exchanges.kraken.book_sync import UNKNOWN_DEPTH_REASON, KrakenBookSync, kraken_checksum
from platform_streams.exchanges.kraken.parser import KrakenParser
from platform_streams.schemas import BookDelta, BookResync, BookSnapshot
from tests.exchanges.captures import received_frames
from tests.exchanges.kraken.conftest import BOOK


def book_frames(parser: KrakenParser) -> list[ParsedFrame]:
    parsed = (parser.parse_frame(record.frame, record.receive_ts_ns) for record in received_frames(BOOK))
    return [frame for frame in parsed if frame.events]


def kraken_book(symbol: str, depth: int) -> KrakenBookSync:
    sync = KrakenBookSync(symbol)
    sync.depth = depth
    return sync


def replay(frames: list[ParsedFrame]) -> tuple[collections.Counter[SyncStatus], int, list[BookResync]]:
    """The frames through one sync rule per symbol, at the depth each frame says it was subscribed at."""
    syncs: dict[str, KrakenBookSync] = {}
    statuses: collections.Counter[SyncStatus] = collections.Counter()
    verified = 0
    resyncs = []
    for frame in frames:
        (event,) = frame.events
        assert isinstance(event, BookSnapshot | BookDelta)
        (subscription,) = frame.subscriptions
        sync = syncs.setdefault(event.symbol, KrakenBookSync(event.symbol))
        sync.depth = subscription.depth
        result = sync.on_event(event, frame.checksum)
        statuses[result.status] += 1
        verified += result.status is SyncStatus.APPLIED and frame.checksum is not None
        if result.resync is not None:
            resyncs.append(result.resync)
    return statuses, verified, resyncs


@pytest.mark.parametrize("with_asset_pairs", [True, False])
def test_every_checksum_verifies_against_the_rebuilt_book(with_asset_pairs: bool, kraken_instruments: InstrumentRegistry) -> None:
    parser = KrakenParser(kraken_instruments if with_asset_pairs else None)
    statuses, verified, resyncs = replay(book_frames(parser))
    assert resyncs == []
    assert verified == 4_269
    assert statuses == {SyncStatus.APPLIED: 10 + 4_269}


def test_a_lost_update_fails_the_checksum(kraken_instruments: InstrumentRegistry) -> None:
    frames = book_frames(KrakenParser(kraken_instruments))
    xmr = [
        index
        for index, frame in enumerate(frames)
        if frame.events[0].symbol == "XMR/USD" and isinstance(frame.events[0], BookDelta)
    ]
    lost = xmr[50]
    statuses, verified, resyncs = replay(frames[:lost] + frames[lost + 1 :])
    (resync,) = resyncs
    assert (resync.exchange, resync.symbol) == ("kraken", "XMR/USD")
    assert resync.reason.startswith("checksum mismatch: exchange ")
    assert statuses[SyncStatus.DROPPED] == len(xmr) - 52  # every later XMR/USD update waits for a new snapshot
    assert verified == 4_269 - 1 - (len(xmr) - 51)


def _levels(prices: range, size: int) -> list[tuple[int, int]]:
    return [(price, size) for price in prices]


def test_book_is_truncated_to_the_subscribed_depth_before_the_checksum() -> None:
    sync = kraken_book("BTC/USD", 10)
    asks = _levels(range(101, 111), 5)
    sync.on_snapshot(BookSnapshot("kraken", "BTC/USD", 0, 0, 1, _levels(range(99, 89, -1), 5), asks, 1, 8))
    # a new best bid pushes 90 out of the subscribed depth; Kraken sends no removal for it
    expected = OrderBook(1, 8)
    expected.load(_levels(range(100, 90, -1), 5), asks)
    new_best = BookDelta("kraken", "BTC/USD", 0, 0, 2, 2, 0, [(100, 5)], [], 1, 8)
    result = sync.on_delta(new_best, BookChecksum(kraken_checksum(expected, 1, 8), 1, 8))
    assert result.status is SyncStatus.APPLIED
    assert sync.book is not None and sync.book.bid_depth == 10 and sync.book.bid_size(90) == 0
    # the published delta says so, so a consumer rebuilding from md.book drops 90 too
    assert result.applied[0].bids == [(100, 5), (90, 0)]
    # when 100 goes, Kraken republishes 90 with its current size
    expected.load(_levels(range(99, 90, -1), 5) + [(90, 3)], asks)
    republished = BookDelta("kraken", "BTC/USD", 0, 0, 3, 3, 0, [(100, 0), (90, 3)], [], 1, 8)
    assert sync.on_delta(republished, BookChecksum(kraken_checksum(expected, 1, 8), 1, 8)).status is SyncStatus.APPLIED
    assert sync.book.top_bids(10)[-1] == (90, 3)


def test_checksum_string_is_kraken_text_without_dots_and_leading_zeros() -> None:
    book = OrderBook(2, 8)
    book.load([(35_415, 500_000_000)], [(35_420, 12_345)])
    # asks then bids; "354.20000000" "0.00012345" then "354.15000000" "5.00000000", at Kraken's 8 decimals
    assert kraken_checksum(book, 8, 8) == zlib.crc32(b"3542000000012345" + b"35415000000500000000")
    sync = kraken_book("XMR/USD", 10)
    sync.on_snapshot(BookSnapshot("kraken", "XMR/USD", 0, 0, 1, [(35_415, 500_000_000)], [(35_420, 12_345)], 2, 8))
    delta = BookDelta("kraken", "XMR/USD", 0, 0, 2, 2, 0, [], [], 2, 8)
    assert sync.on_delta(delta, BookChecksum(1, None, None)).reason == "cannot verify the checksum: no decimals of Kraken's text"


def test_crossing_update_and_unknown_or_bad_depth() -> None:
    sync = kraken_book("BTC/USD", 25)
    sync.on_snapshot(BookSnapshot("kraken", "BTC/USD", 0, 0, 1, [(100, 1)], [(101, 1)], 1, 8))
    crossed = sync.on_delta(BookDelta("kraken", "BTC/USD", 0, 0, 2, 2, 0, [(102, 1)], [], 1, 8))
    assert crossed.status is SyncStatus.RESYNC and crossed.reason.startswith("book crossed")
    # a book whose subscription depth nobody stated is not served: its truncation would be a guess
    snapshot = BookSnapshot("kraken", "BTC/USD", 0, 0, 3, [(100, 1)], [(101, 1)], 1, 8)
    unknown = KrakenBookSync("BTC/USD").on_snapshot(snapshot)
    assert unknown.status is SyncStatus.RESYNC and unknown.reason == UNKNOWN_DEPTH_REASON
    assert kraken_book("BTC/USD", 20).on_snapshot(snapshot).reason == "book depth 20 is not one Kraken sends"


def test_a_snapshot_deeper_than_subscribed_is_published_as_kept() -> None:
    sync = kraken_book("BTC/USD", 10)
    result = sync.on_snapshot(
        BookSnapshot("kraken", "BTC/USD", 0, 0, 1, _levels(range(99, 79, -1), 5), _levels(range(101, 121), 5), 1, 8)
    )
    assert result.status is SyncStatus.APPLIED
    published = result.applied[0]
    assert published.bids == _levels(range(99, 89, -1), 5) and published.asks == _levels(range(101, 111), 5)
