"""Kraken v2's book rule on the real captures: every checksum (snapshots included) verifies on a book
truncated to the acknowledged depth after every message; resubscription snapshots replace the book;
a lost update or an unknown depth is never served."""

from __future__ import annotations

import collections

import pytest

from platform_streams.books.sync import SyncResult, SyncStatus
from platform_streams.exchanges.instruments import InstrumentRegistry
from platform_streams.exchanges.kraken.book_sync import UNKNOWN_DEPTH_REASON
from platform_streams.exchanges.kraken_v2.book_sync import KrakenV2BookSync
from platform_streams.exchanges.kraken_v2.parser import KrakenV2Parser
from platform_streams.schemas import BookDelta, BookSnapshot
from tests.exchanges.captures import CaptureRecord, received_frames
from tests.exchanges.kraken_v2.conftest import BTC_10_RESUBSCRIBED, BTC_25, ETH_25


class Replay:
    """A capture through the parser and one book rule, as the normaliser feeds them (depth from the acks)."""

    def __init__(self, instruments: InstrumentRegistry, symbol: str) -> None:
        self.parser = KrakenV2Parser(instruments, require_metadata=True)
        self.sync = KrakenV2BookSync(symbol)
        self.statuses: collections.Counter[SyncStatus] = collections.Counter()
        self.verified = self.truncations = self.snapshots = 0
        self.reasons: list[str] = []

    def run(self, records: list[CaptureRecord]) -> Replay:
        for record in records:
            parsed = self.parser.parse_frame(record.frame, record.receive_ts_ns)
            for subscription in parsed.subscriptions:
                self.sync.depth = subscription.depth
            for event in parsed.events:
                assert isinstance(event, BookSnapshot | BookDelta)
                result = self.sync.on_event(event, parsed.checksum)
                self.count(event, result)
        return self

    def count(self, event: BookSnapshot | BookDelta, result: SyncResult) -> None:
        self.statuses[result.status] += 1
        if result.status is not SyncStatus.APPLIED:
            self.reasons.append(result.reason)
            return
        self.verified += 1  # every v2 book message carries a checksum, and it matched
        published = result.applied[0]
        if isinstance(event, BookSnapshot):
            self.snapshots += 1
            book = self.sync.book
            assert book is not None and (book.top_bids(1000), book.top_asks(1000)) == (published.bids, published.asks)
        elif len(published.bids) + len(published.asks) > len(event.bids) + len(event.asks):
            self.truncations += 1  # levels pushed out of the subscribed depth, published as removals


@pytest.mark.parametrize(
    ("capture", "symbol", "depth", "checksums", "truncations"),
    [(BTC_25, "BTC/USD", 25, 2_052, 741), (ETH_25, "ETH/USD", 25, 1_129, 567)],
)
def test_every_checksum_verifies_on_the_book_kept_at_its_depth(
    krakenv2_instruments: InstrumentRegistry, capture: str, symbol: str, depth: int, checksums: int, truncations: int
) -> None:
    replay = Replay(krakenv2_instruments, symbol).run(received_frames(capture))
    assert replay.reasons == [] and replay.verified == checksums and replay.truncations == truncations
    book = replay.sync.book
    assert book is not None and replay.sync.depth == depth and book.bid_depth <= depth and book.ask_depth <= depth


def test_resubscription_snapshots_replace_the_book(krakenv2_instruments: InstrumentRegistry) -> None:
    replay = Replay(krakenv2_instruments, "BTC/USD").run(received_frames(BTC_10_RESUBSCRIBED))
    assert replay.reasons == [] and replay.verified == 301 and replay.snapshots == 5  # each checked equal to its book
    assert replay.sync.depth == 10 and replay.sync.book is not None and replay.sync.book.bid_depth == 10


def test_a_lost_update_fails_the_next_checksum_and_later_ones_wait(krakenv2_instruments: InstrumentRegistry) -> None:
    records = received_frames(BTC_25)
    updates = [i for i, r in enumerate(records) if b'"type":"update"' in r.frame and b'"channel":"book"' in r.frame]
    # drop an update that changed the top 10 (the checksum covers only those)
    lost = next(i for i in updates[100:] if _changes_top_ten(krakenv2_instruments, records, i))
    replay = Replay(krakenv2_instruments, "BTC/USD").run(records[:lost] + records[lost + 1 :])
    assert replay.reasons and replay.reasons[0].startswith("checksum mismatch: exchange ")
    assert replay.statuses[SyncStatus.RESYNC] == 1 and replay.statuses[SyncStatus.DROPPED] > 0  # no book served after


def _changes_top_ten(instruments: InstrumentRegistry, records: list[CaptureRecord], index: int) -> bool:
    replay = Replay(instruments, "BTC/USD").run(records[:index])
    book = replay.sync.book
    assert book is not None
    top = (book.top_bids(10), book.top_asks(10))
    replay.run([records[index]])
    return (book.top_bids(10), book.top_asks(10)) != top


def test_a_snapshot_without_its_acknowledgement_is_not_served(krakenv2_instruments: InstrumentRegistry) -> None:
    """A normaliser that took a partition over after the subscribe acknowledgement cannot know the depth:
    truncating by a guess would fail later checksums, so the book resyncs (and the resubscription is
    acknowledged)."""
    records = received_frames(BTC_25)
    replay = Replay(krakenv2_instruments, "BTC/USD").run(records[2:40])  # from the snapshot: the ack missed
    assert replay.reasons[0] == UNKNOWN_DEPTH_REASON and replay.statuses[SyncStatus.APPLIED] == 0
