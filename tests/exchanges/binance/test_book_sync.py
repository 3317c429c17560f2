"""Binance's snapshot + U/u rule on the real captures, and what a gap or a stale snapshot does."""

from __future__ import annotations

import collections
from collections.abc import Iterable

from platform_streams.books.sync import SyncStatus
from platform_streams.exchanges.binance.book_sync import BinanceBookSync
from platform_streams.exchanges.binance.parser import BinanceParser
from platform_streams.schemas import BestBidOffer, BookDelta, BookResync, BookSnapshot
from tests.exchanges.captures import CaptureRecord, read_capture

BTCUSDT_2024 = "binance/2024-08-08_hftbacktest_spot_BTCUSDT.jsonl.gz"
TEN_SYMBOLS = "binance/2021-04-05_cryptofeed_spot_10sym.jsonl"
BTC_ETH_DOT = "binance/2021-04-04_cryptofeed_spot_BTC-ETH-DOT.jsonl"
FOUR_SYMBOLS = ("binance/2021-10-12_cryptofeed_spot_4sym.rest.jsonl", "binance/2021-10-12_cryptofeed_spot_4sym.ws.jsonl")


class Replay:
    """Feeds a capture through the parser and one sync per symbol, recording what a daemon would publish."""

    def __init__(self) -> None:
        self.parser = BinanceParser()
        self.syncs: dict[str, BinanceBookSync] = {}
        self.statuses: collections.Counter[SyncStatus] = collections.Counter()
        self.published: dict[str, list[BookSnapshot | BookDelta]] = collections.defaultdict(list)
        self.resyncs: list[BookResync] = []
        self.tickers: dict[tuple[str, int], BestBidOffer] = {}
        self.tops_equal = 0
        self.tops_differ = 0

    def run(self, records: Iterable[CaptureRecord]) -> Replay:
        records = list(records)
        for record in records:  # bookTickers first: one may arrive before the diff ending at its u
            if record.direction == "in":
                for event in self.parser.parse(record.frame, record.receive_ts_ns):
                    if isinstance(event, BestBidOffer):
                        self.tickers[(event.symbol, event.sequence)] = event
        for record in records:
            if record.direction == "rest":
                exchange_symbol = record.url.split("symbol=")[1].split("&")[0] if record.url else "BTCUSDT"
                self.feed(self.parser.parse_depth_snapshot(record.frame, exchange_symbol, record.receive_ts_ns))
            elif record.direction == "in":
                for event in self.parser.parse(record.frame, record.receive_ts_ns):
                    if isinstance(event, BookDelta):
                        self.feed(event)
        return self

    def feed(self, event: BookSnapshot | BookDelta) -> None:
        sync = self.syncs.setdefault(event.symbol, BinanceBookSync(event.symbol))
        result = sync.on_event(event)
        self.statuses[result.status] += 1
        if result.resync is not None:
            self.resyncs.append(result.resync)
        for applied in result.applied:
            self.published[event.symbol].append(applied)
            if isinstance(applied, BookDelta):
                self.compare_top(sync, applied)

    def compare_top(self, sync: BinanceBookSync, delta: BookDelta) -> None:
        ticker = self.tickers.get((delta.symbol, delta.sequence))
        if ticker is None or sync.book is None or sync.last_sequence != delta.sequence:
            return
        top = (sync.book.best_bid(), sync.book.best_ask())
        if top == ((ticker.bid_price, ticker.bid_size), (ticker.ask_price, ticker.ask_size)):
            self.tops_equal += 1
        else:
            self.tops_differ += 1


def assert_u_chain(published: list[BookSnapshot | BookDelta]) -> int:
    """Every published diff continues its snapshot by the U/u rule; returns how many diffs there are."""
    diffs = 0
    last = -1
    for event in published:
        if isinstance(event, BookSnapshot):
            last, bridged = event.sequence, False
            continue
        if bridged:
            assert event.first_sequence == last + 1
        else:
            assert event.first_sequence <= last + 1 <= event.sequence
        last, bridged = event.sequence, True
        diffs += 1
    return diffs


def test_btcusdt_2024_every_diff_continues_the_snapshot() -> None:
    replay = Replay().run(read_capture(BTCUSDT_2024))
    assert replay.resyncs == []
    assert replay.statuses == {SyncStatus.BUFFERED: 3, SyncStatus.APPLIED: 6_492 + 1}
    assert assert_u_chain(replay.published["BTC/USDT"]) == 6_493  # the bridging diff, then 6,492 continuing ones
    assert replay.tops_equal == 1_072 and replay.tops_differ == 0


def test_ten_symbols_every_snapshot_bridged() -> None:
    replay = Replay().run(read_capture(TEN_SYMBOLS))
    assert replay.resyncs == []
    assert len(replay.published) == 10
    assert sum(assert_u_chain(events) for events in replay.published.values()) == 4_642
    assert replay.tops_equal == 1_152 and replay.tops_differ == 0


def test_btc_eth_dot_every_snapshot_bridged() -> None:
    replay = Replay().run(read_capture(BTC_ETH_DOT))
    assert replay.resyncs == []
    assert sum(assert_u_chain(events) for events in replay.published.values()) == 2_656


def test_four_symbols_with_snapshots_fetched_first() -> None:
    replay = Replay().run(record for capture in FOUR_SYMBOLS for record in read_capture(capture))
    assert replay.resyncs == []
    assert replay.statuses[SyncStatus.DROPPED] == 5  # diffs already inside their snapshot
    assert sum(assert_u_chain(events) for events in replay.published.values()) == 172
    assert replay.tops_equal == 26 and replay.tops_differ == 0


def test_a_dropped_diff_is_a_gap_and_asks_for_a_resync() -> None:
    records = list(read_capture(BTCUSDT_2024))
    diff_positions = [index for index, record in enumerate(records) if b"@depth@100ms" in record.frame]
    lost = diff_positions[100]
    replay = Replay().run(records[:lost] + records[lost + 1 :])
    (resync,) = replay.resyncs
    parser = BinanceParser()
    (lost_diff,) = parser.parse(records[lost].frame, 0)
    (next_diff,) = parser.parse(records[diff_positions[101]].frame, 0)
    assert isinstance(lost_diff, BookDelta) and isinstance(next_diff, BookDelta)
    assert resync.reason.startswith("diff does not start where the previous one ended")
    assert resync.sequence == lost_diff.first_sequence - 1  # the last good u
    assert (resync.expected_sequence, resync.received_sequence) == (lost_diff.first_sequence, next_diff.first_sequence)
    assert (resync.exchange, resync.symbol) == ("binance", "BTC/USDT")
    # every later diff waits for a new snapshot instead of being applied to a wrong book
    assert replay.statuses[SyncStatus.BUFFERED] == 3 + (len(diff_positions) - 102)


def _delta(first: int, last: int, previous: int = 0, bids: list[tuple[int, int]] | None = None) -> BookDelta:
    return BookDelta("binance", "BTC/USDT", 0, last, last, first, previous, bids or [(100, 1)], [(200, 1)], 0, 0)


def _snapshot(last_update_id: int) -> BookSnapshot:
    return BookSnapshot("binance", "BTC/USDT", 0, 0, last_update_id, [(100, 5)], [(200, 5)], 0, 0)


def test_snapshot_older_than_the_buffer_asks_for_another_snapshot() -> None:
    sync = BinanceBookSync("BTC/USDT")
    assert sync.on_delta(_delta(20, 25)).status is SyncStatus.BUFFERED
    result = sync.on_snapshot(_snapshot(10))
    assert result.status is SyncStatus.RESYNC
    assert result.resync is not None and (result.resync.expected_sequence, result.resync.received_sequence) == (11, 20)
    assert sync.on_delta(_delta(26, 30)).status is SyncStatus.BUFFERED
    applied = sync.on_snapshot(_snapshot(27))
    assert applied.status is SyncStatus.APPLIED
    assert [event.sequence for event in applied.applied] == [27, 30]


def test_first_live_diff_must_bracket_the_snapshot() -> None:
    sync = BinanceBookSync("BTC/USDT")
    assert sync.on_snapshot(_snapshot(10)).applied == (_snapshot(10),)
    assert sync.on_delta(_delta(5, 10)).status is SyncStatus.DROPPED
    gap = sync.on_delta(_delta(12, 15))
    assert gap.status is SyncStatus.RESYNC and "U > lastUpdateId + 1" in gap.reason


def test_replayed_diff_is_dropped_and_pu_is_checked() -> None:
    sync = BinanceBookSync("BTC/USDT")
    sync.on_snapshot(_snapshot(10))
    assert sync.on_delta(_delta(9, 12, previous=8)).status is SyncStatus.APPLIED
    assert sync.on_delta(_delta(9, 12, previous=8)).status is SyncStatus.DROPPED
    mismatch = sync.on_delta(_delta(13, 14, previous=11))
    assert mismatch.status is SyncStatus.RESYNC and "pu" in mismatch.reason


def test_crossing_diff_asks_for_a_resync() -> None:
    sync = BinanceBookSync("BTC/USDT")
    sync.on_snapshot(_snapshot(10))
    crossed = sync.on_delta(_delta(11, 11, bids=[(250, 1)]))
    assert crossed.status is SyncStatus.RESYNC and crossed.reason.startswith("book crossed")
    assert not sync.live
