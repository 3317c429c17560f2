"""OKX's books rule on the real captures: every checksum verifies; a lost update or a seqId gap resyncs."""

from __future__ import annotations

import collections
import zlib

import pytest

from platform_streams.books.order_book import OrderBook
from platform_streams.books.sync import BookChecksum, SyncStatus
from platform_streams.exchanges.base import ParsedFrame
from platform_streams.exchanges.instruments import InstrumentRegistry
from platform_streams.exchanges.okx.book_sync import OkxBookChecksum, OkxBookSync
from platform_streams.exchanges.okx.parser import OkxParser
from platform_streams.schemas import BookDelta, BookResync, BookSnapshot
from tests.exchanges.captures import received_frames
from tests.exchanges.okx.conftest import BOOKS, BOOKS_L2_TBT


def book_frames(capture: str, registry: InstrumentRegistry) -> list[ParsedFrame]:
    parser = OkxParser(registry)
    parsed = (parser.parse_frame(record.frame, record.receive_ts_ns) for record in received_frames(capture))
    return [frame for frame in parsed if frame.events and isinstance(frame.events[0], BookSnapshot | BookDelta)]


def replay(frames: list[ParsedFrame]) -> tuple[collections.Counter[SyncStatus], int, list[BookResync]]:
    """Statuses, how many exchange checksums were verified, and the resyncs asked for."""
    syncs: dict[str, OkxBookSync] = {}
    statuses: collections.Counter[SyncStatus] = collections.Counter()
    verified = 0
    resyncs = []
    for frame in frames:
        (event,) = frame.events
        assert isinstance(event, BookSnapshot | BookDelta)
        result = syncs.setdefault(event.symbol, OkxBookSync(event.symbol)).on_event(event, frame.checksum)
        statuses[result.status] += 1
        verified += result.status is SyncStatus.APPLIED and frame.checksum is not None
        if result.resync is not None:
            resyncs.append(result.resync)
    return statuses, verified, resyncs


@pytest.mark.parametrize(("capture", "checksums"), [(BOOKS, 290), (BOOKS_L2_TBT, 3_679)])
def test_every_checksum_verifies_against_the_rebuilt_book(
    capture: str, checksums: int, okx_instruments: dict[str, InstrumentRegistry]
) -> None:
    statuses, verified, resyncs = replay(book_frames(capture, okx_instruments[capture]))
    assert resyncs == []
    assert verified == checksums
    assert statuses == {SyncStatus.APPLIED: checksums}


def test_a_lost_update_fails_the_next_checksum(okx_instruments: dict[str, InstrumentRegistry]) -> None:
    frames = book_frames(BOOKS_L2_TBT, okx_instruments[BOOKS_L2_TBT])
    symbol = frames[-1].events[0].symbol
    positions = [
        index for index, frame in enumerate(frames) if frame.events[0].symbol == symbol and isinstance(frame.events[0], BookDelta)
    ]
    lost = positions[len(positions) // 2]
    statuses, _, resyncs = replay(frames[:lost] + frames[lost + 1 :])
    (resync,) = resyncs
    assert resync.symbol == symbol and resync.reason.startswith("checksum mismatch")
    assert statuses[SyncStatus.DROPPED] == len([index for index in positions if index > lost]) - 1  # waits for a snapshot


def _snapshot(sequence: int) -> BookSnapshot:
    return BookSnapshot("okx", "BTC/USDT", 0, 0, sequence, [(301_000, 5)], [(302_000, 5)], 1, 0)


def _delta(sequence: int, previous: int, bids: list[tuple[int, int]]) -> BookDelta:
    return BookDelta("okx", "BTC/USDT", 0, 0, sequence, sequence, previous, bids, [], 1, 0)


def test_seq_id_chain_is_checked_when_present() -> None:
    sync = OkxBookSync("BTC/USDT")
    assert sync.on_snapshot(_snapshot(100)).status is SyncStatus.APPLIED
    assert sync.on_delta(_delta(105, 100, [(301_100, 1)])).status is SyncStatus.APPLIED
    assert sync.on_delta(_delta(105, 105, [])).status is SyncStatus.APPLIED  # no change: seqId == prevSeqId
    assert sync.on_delta(_delta(90, 105, [(301_200, 1)])).status is SyncStatus.APPLIED  # a seqId reset keeps the chain
    gap = sync.on_delta(_delta(120, 110, [(301_300, 1)]))
    assert gap.status is SyncStatus.RESYNC and gap.resync is not None
    assert (gap.resync.sequence, gap.resync.expected_sequence, gap.resync.received_sequence) == (90, 90, 110)
    assert sync.on_delta(_delta(121, 120, [])).status is SyncStatus.DROPPED
    assert sync.on_snapshot(_snapshot(200)).status is SyncStatus.APPLIED


def test_checksum_string_interleaves_sides_in_okx_text() -> None:
    book = OrderBook(1, 8)
    book.load([(302_360, 20_000), (302_350, 100_000_000)], [(302_370, 150_000_000)])
    expected = zlib.crc32(b"30236:0.0002:30237:1.5:30235:1")
    expected = expected - (1 << 32) if expected >= 1 << 31 else expected
    assert OkxBookChecksum()(book) == expected
    sync = OkxBookSync("BTC/USDT", verify_checksums=False)
    assert (
        sync.on_snapshot(BookSnapshot("okx", "BTC/USDT", 0, 0, 1, [(1, 1)], [(2, 1)], 1, 0), BookChecksum(0)).status
        is SyncStatus.APPLIED
    )
