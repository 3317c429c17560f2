"""The native book-update fast paths of Kraken v1, OKX and Binance (``native/src/kraken_book_updates.rs``,
``okx_book_updates.rs``, ``binance_depth_updates.rs``): byte for byte what the Python parser, sync rule and encoder publish, on
the recorded books and on the same frames with faults put in; a declined update leaves the book
as it was, for the Python path to judge."""

from __future__ import annotations

import random
import re
import zlib
from typing import Any

import msgspec
import pytest

from platform_streams.exchanges.base import FrameError
from platform_streams.exchanges.binance.book_sync import BinanceBookSync
from platform_streams.exchanges.binance.parser import BinanceParser
from platform_streams.exchanges.kraken.book_sync import KrakenBookSync
from platform_streams.exchanges.kraken.instruments import registry_from_asset_pairs
from platform_streams.exchanges.kraken.parser import KrakenParser
from platform_streams.exchanges.okx.book_sync import OkxBookSync
from platform_streams.exchanges.okx.instruments import registry_from_instruments
from platform_streams.exchanges.okx.parser import OkxParser
from platform_streams.normalisation.normaliser import Normaliser
from platform_streams.schemas import BookSnapshot, decode
from platform_streams.schemas.raw_frames import ConnectionEvent, FrameKind, RawFrame
from platform_streams.topics import BOOK_TOPIC
from tests.exchanges.captures import rest_bodies
from tests.normalisation.test_normaliser import BINANCE_2024, KRAKEN_ASSET_PAIRS, KRAKEN_BOOK, OKX_BOOKS, raw_frames

OKX_INSTRUMENTS = "okx/2022-05-13_cryptofeed_instruments.rest.jsonl"
OKX_L2_TBT = "okx/2022-02-27_cryptofeed_v5_books-l2-tbt.ws.jsonl"
OKX_L2_TBT_INSTRUMENTS = "okx/2022-02-27_cryptofeed_instruments.rest.jsonl"


BINANCE_SNAPSHOT_PATH = "/api/v3/depth?symbol=BTCUSDT&limit=1000"


def registry(exchange: str, capture: str) -> Any:
    if exchange == "binance":
        return None  # the capture comes without exchangeInfo: scales from the text, as replays read it
    if exchange == "kraken":
        return registry_from_asset_pairs(rest_bodies(KRAKEN_ASSET_PAIRS)[0].frame)
    instruments = OKX_INSTRUMENTS if capture == OKX_BOOKS else OKX_L2_TBT_INSTRUMENTS
    return registry_from_instruments([body.frame for body in rest_bodies(instruments)])


class CountingFastPath:
    """The parser's fast path, counting the frames it takes."""

    def __init__(self, fast: Any) -> None:
        self.fast = fast
        self.taken = 0

    def apply(self, frame: bytes, receive_ts_ns: int, connection_id: str) -> tuple[str, bytes] | None:
        result = self.fast.apply(frame, receive_ts_ns, connection_id)
        self.taken += result is not None
        return result

    def attach(self, symbol: str, sync: Any, connection_id: str) -> None:
        self.fast.attach(symbol, sync, connection_id)

    def detach(self, symbol: str) -> None:
        self.fast.detach(symbol)


def normaliser(fast: bool, first: RawFrame, capture: str) -> tuple[Normaliser, CountingFastPath | None]:
    built = Normaliser()
    instruments = registry(first.exchange, capture)
    if instruments is not None:
        built.set_instruments(first.exchange, instruments)
    reader = built._reader(first)
    counting = CountingFastPath(reader.book_fast_path) if fast else None
    reader.book_fast_path = counting
    return built, counting


def outcomes(built: Normaliser, frames: list[RawFrame]) -> list[tuple[Any, ...]]:
    """Every output (topic, key, value, headers) and every refused frame (its error and reason), in order."""
    seen: list[tuple[Any, ...]] = []
    for frame in frames:
        try:
            seen.extend((o.topic, o.key, o.value, o.headers) for o in built.handle(frame))
        except FrameError as error:
            seen.append(("refused", type(error).__name__, error.reason))
    return seen


def books(built: Normaliser) -> dict[tuple[str, str], tuple[Any, ...]]:
    return {
        key: (
            sync.live,
            sync.depth,
            sync.last_sequence,
            sync.book.bids() if sync.book else None,
            sync.book.asks() if sync.book else None,
        )
        for key, sync in built.books().items()
    }


def assert_fast_equals_python(frames: list[RawFrame], capture: str) -> tuple[list[tuple[Any, ...]], int, Normaliser]:
    fast, counting = normaliser(True, frames[0], capture)
    python, _ = normaliser(False, frames[0], capture)
    fast_outcomes, python_outcomes = outcomes(fast, frames), outcomes(python, frames)
    assert len(fast_outcomes) == len(python_outcomes)
    assert fast_outcomes == python_outcomes
    assert books(fast) == books(python)
    assert fast.resyncs == python.resyncs
    assert counting is not None
    return fast_outcomes, counting.taken, fast


def test_on_the_recorded_kraken_books_the_fast_path_publishes_what_the_python_path_publishes() -> None:
    frames = raw_frames(KRAKEN_BOOK, "kraken")
    published, taken, built = assert_fast_equals_python(frames, KRAKEN_BOOK)
    updates = sum(1 for frame in frames if frame.payload.endswith(b'"]') and b'"c":"' in frame.payload)
    assert built.resyncs == 0 and updates > 4_000
    assert taken >= updates - 10  # every update but the first of each of the 10 books (it attaches them)
    assert sum(1 for topic, *_ in published if topic == BOOK_TOPIC) == 4_269 + 10


@pytest.mark.parametrize("capture", [OKX_BOOKS, OKX_L2_TBT])
def test_on_the_recorded_okx_books_the_fast_path_publishes_what_the_python_path_publishes(capture: str) -> None:
    frames = raw_frames(capture, "okx")
    published, taken, built = assert_fast_equals_python(frames, capture)
    updates = sum(1 for frame in frames if b'"action":"update"' in frame.payload)
    books_seen = len(built.books())
    assert built.resyncs == 0 and updates > 100 and books_seen >= 1
    assert taken >= updates - books_seen  # every update but the first of each book (it attaches them)
    snapshots = sum(1 for frame in frames if b'"action":"snapshot"' in frame.payload)
    assert sum(1 for topic, *_ in published if topic == BOOK_TOPIC) == updates + snapshots


def test_on_the_recorded_binance_depth_diffs_the_fast_path_publishes_what_the_python_path_publishes() -> None:
    frames = raw_frames(BINANCE_2024, "binance", BINANCE_SNAPSHOT_PATH)
    published, taken, built = assert_fast_equals_python(frames, BINANCE_2024)
    assert built.resyncs == 0
    assert taken >= 6_493 - 2  # the bridging diff and the one after it go through the sync rule, then all
    assert sum(1 for topic, *_ in published if topic == BOOK_TOPIC) == 1 + 6_493  # the snapshot and every diff applied


def _with_checksum(frame: bytes, checksum: str) -> bytes:
    if frame.startswith(b"{"):  # OKX: a signed integer
        return re.sub(rb'"checksum":-?[0-9]+', b'"checksum":' + checksum.encode(), frame)
    return re.sub(rb'"c":"[0-9]+"', b'"c":"' + checksum.encode() + b'"', frame)


def faulted(frames: list[RawFrame], seed: int) -> list[RawFrame]:
    """The recorded frames with faults: wrong checksums, lost updates, a frame of another connection,
    an escaped pair name, malformed levels, a reconnect, and a channel stating another depth."""
    rng = random.Random(seed)
    out: list[RawFrame] = []
    for index, frame in enumerate(frames):
        payload = frame.payload
        # in the second half only, rarely: a resynced book stays down (a capture brings no new snapshot)
        is_update = (
            frame.kind is FrameKind.WEBSOCKET
            and (b'"c":"' in payload or b'"action":"update"' in payload or b'"depthUpdate"' in payload)
            and index > len(frames) // 2
        )
        roll = rng.random() * 5 if is_update else 1.0
        if roll < 0.01:
            payload = _with_checksum(payload, str(rng.randrange(2**32)))
        elif roll < 0.02:
            continue  # lost: the next update's checksum fails
        elif roll < 0.025:
            payload = payload.replace(b'","book-1000","', b'","book-10","')
        elif roll < 0.03:
            payload = payload.replace(b'"]', b'\\/"]', 1) if b"/" in payload[-20:] else payload
        elif roll < 0.035:
            payload = re.sub(rb'\[\["([0-9.]+)"', rb'[["1e5"', payload, count=1)
        elif roll < 0.037:
            payload = payload.replace(b'"instId":"', b'"instId":"\\u0042', 1)  # escaped text: another instrument
        elif roll < 0.04:
            out.append(msgspec.structs.replace(frame, connection_id="conn-2"))
            continue
        elif roll < 0.041:
            out.append(frame)  # sent twice: the second is stale (Binance drops it) or repeats the same levels
        elif roll < 0.042:
            event = ConnectionEvent("disconnected", [], "test reconnect")
            out.append(
                RawFrame("kraken", frame.connection_id, 0, frame.receive_ts_ns, FrameKind.CONTROL, msgspec.json.encode(event))
            )
        out.append(msgspec.structs.replace(frame, payload=payload))
    return out


@pytest.mark.parametrize(
    ("exchange", "capture", "seed"),
    [("kraken", KRAKEN_BOOK, seed) for seed in (1, 2, 3)] + [("okx", OKX_L2_TBT, seed) for seed in (1, 2, 3)],
)
def test_with_faults_put_in_the_fast_path_declines_and_the_python_path_publishes_the_same(
    exchange: str, capture: str, seed: int
) -> None:
    frames = faulted(raw_frames(capture, exchange), seed)
    published, taken, built = assert_fast_equals_python(frames, capture)
    assert built.resyncs > 0 and taken > 100
    assert any(entry[0] == "refused" for entry in published)  # malformed levels were dead-lettered alike


def _book_frame(side: str, levels: list[tuple[str, str]], checksum: int, channel: str = "book-10") -> bytes:
    body = [[price, volume, "1618678133.365913"] for price, volume in levels]
    return msgspec.json.encode([1, {side: body, "c": str(checksum)}, channel, "XBT/USD"])


def _checksum(bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> int:
    text = "".join(p.replace(".", "").lstrip("0") + v.replace(".", "").lstrip("0") for p, v in asks[:10] + bids[:10])
    return zlib.crc32(text.encode())


def _attached_book() -> tuple[Any, KrakenBookSync, list[tuple[str, str]], list[tuple[str, str]]]:
    registry = registry_from_asset_pairs(rest_bodies(KRAKEN_ASSET_PAIRS)[0].frame)
    parser = KrakenParser(registry, require_metadata=True)
    sync = KrakenBookSync("BTC/USD")
    sync.depth = 10
    bids = [(f"{60000 - i}.00000", "1.00000000") for i in range(10)]
    asks = [(f"{60001 + i}.00000", "2.00000000") for i in range(10)]
    snapshot = parser.parse_frame(
        msgspec.json.encode(
            [
                1,
                {"as": [[p, v, "1618678133.1"] for p, v in asks], "bs": [[p, v, "1618678133.1"] for p, v in bids]},
                "book-10",
                "XBT/USD",
            ]
        ),
        1,
    ).events[0]
    assert isinstance(snapshot, BookSnapshot) and sync.on_event(snapshot).applied
    fast = parser.book_fast_path()
    fast.attach("BTC/USD", sync, "conn-1")
    return fast, sync, bids, asks


def test_an_update_that_verifies_is_applied_truncated_and_published_with_its_removals() -> None:
    fast, sync, bids, asks = _attached_book()
    better = [("60000.50000", "3.00000000")]  # a new best bid pushes the worst of ten out
    kept = better + bids[:9]
    result = fast.apply(_book_frame("b", better, _checksum(kept, asks)), 7, "conn-1")
    assert result is not None
    key, value = result
    delta = decode(value)
    assert key == "kraken:BTC/USD" and delta.symbol == "BTC/USD"
    assert delta.bids == [(600005, 300_000_000), (599910, 0)]  # the change, then the level truncation dropped
    assert delta.exchange_ts_ns == 1_618_678_133_365_913_000 and delta.sequence == 7 and sync.last_sequence == 7
    assert sync.book.bid_depth == 10 and sync.book.best_bid() == (600005, 300_000_000)


@pytest.mark.parametrize(
    "case",
    ["wrong checksum", "crossing", "other connection", "other depth", "book not live", "pair not attached"],
)
def test_a_declined_update_leaves_the_book_as_it_was(case: str) -> None:
    fast, sync, bids, asks = _attached_book()
    before = (sync.book.bids(), sync.book.asks(), sync.last_sequence)
    better = [("60000.50000", "3.00000000")]
    checksum = _checksum(better + bids[:9], asks)
    frame, connection = _book_frame("b", better, checksum), "conn-1"
    if case == "wrong checksum":
        frame = _book_frame("b", better, checksum ^ 1)
    elif case == "crossing":
        crossing = [("60002.00000", "3.00000000")]
        frame = _book_frame("b", crossing, _checksum(crossing + bids[:9], asks))
    elif case == "other connection":
        connection = "conn-2"
    elif case == "other depth":
        frame = _book_frame("b", better, checksum, "book-25")
    elif case == "book not live":
        sync.live = False
    else:
        fast.detach("BTC/USD")
    assert fast.apply(frame, 7, connection) is None
    assert (sync.book.bids(), sync.book.asks(), sync.last_sequence) == before


def _okx_push(action: str, bids: list[tuple[str, str]], asks: list[tuple[str, str]], **fields: Any) -> bytes:
    entry = {
        "asks": [[p, s, "0", "1"] for p, s in asks],
        "bids": [[p, s, "0", "1"] for p, s in bids],
        "ts": "1652400000123",
        **fields,
    }
    return msgspec.json.encode({"arg": {"channel": "books", "instId": "BTC-USDT"}, "action": action, "data": [entry]})


def _okx_checksum(book: Any, bids: list[tuple[int, int]], asks: list[tuple[int, int]]) -> int:
    """OKX's checksum of ``book`` after the change, from a copy (the real book is left alone)."""
    copy = type(book)(book.price_scale, book.size_scale)
    copy.load(book.bids(), book.asks())
    copy.apply(bids, asks)
    return copy.okx_checksum()


def _attached_okx_book() -> tuple[Any, OkxBookSync, OkxParser]:
    parser = OkxParser(registry("okx", OKX_BOOKS))
    sync = OkxBookSync("BTC/USDT")
    bids = [(f"{30000 - i}", "1") for i in range(30)]
    asks = [(f"{30001 + i}", "2") for i in range(30)]
    snapshot = parser.parse_frame(_okx_push("snapshot", bids, asks, seqId=100), 1)
    assert sync.on_event(snapshot.events[0]).applied and sync.last_sequence == 100
    fast = parser.book_fast_path()
    fast.attach("BTC/USDT", sync, "conn-1")
    return fast, sync, parser


def test_an_okx_update_that_continues_and_verifies_is_applied_and_published() -> None:
    fast, sync, _ = _attached_okx_book()
    change_bids, change_asks = [(300005, 300_000_000), (299990, 0)], [(300010, 500_000_000)]
    checksum = _okx_checksum(sync.book, change_bids, change_asks)
    frame = _okx_push("update", [("30000.5", "3"), ("29999", "0")], [("30001", "5")], checksum=checksum, prevSeqId=100, seqId=101)
    result = fast.apply(frame, 7, "conn-1")
    assert result is not None
    key, value = result
    delta = decode(value)
    assert key == "okx:BTC/USDT" and (delta.sequence, delta.first_sequence, delta.prev_sequence) == (101, 101, 100)
    assert delta.bids == change_bids and delta.asks == change_asks and delta.exchange_ts_ns == 1_652_400_000_123_000_000
    assert (
        sync.last_sequence == 101 and sync.book.best_bid() == (300005, 300_000_000) and sync.book.ask_size(300010) == 500_000_000
    )


@pytest.mark.parametrize(
    "case", ["wrong checksum", "no checksum", "gap in seqId", "crossing", "not verifying", "other connection", "snapshot"]
)
def test_a_declined_okx_update_leaves_the_book_as_it_was(case: str) -> None:
    fast, sync, _ = _attached_okx_book()
    before = (sync.book.bids(), sync.book.asks(), sync.last_sequence)
    change = [(300005, 300_000_000)]
    fields: dict[str, Any] = {"checksum": _okx_checksum(sync.book, change, []), "prevSeqId": 100, "seqId": 101}
    bids, connection, action = [("30000.5", "3")], "conn-1", "update"
    if case == "wrong checksum":
        fields["checksum"] ^= 1
    elif case == "no checksum":
        del fields["checksum"]
    elif case == "gap in seqId":
        fields["prevSeqId"] = 99
    elif case == "crossing":
        bids = [("30002", "3")]
        fields["checksum"] = _okx_checksum(sync.book, [(300020, 300_000_000)], [])
    elif case == "not verifying":
        sync.verify_checksums = False
    elif case == "other connection":
        connection = "conn-2"
    else:
        action = "snapshot"
    assert fast.apply(_okx_push(action, bids, [], **fields), 7, connection) is None
    assert (sync.book.bids(), sync.book.asks(), sync.last_sequence) == before


def _binance_diff(first: int, last: int, bids: list[tuple[str, str]], previous: int | None = None) -> bytes:
    data: dict[str, Any] = {"e": "depthUpdate", "E": 1723161254089, "s": "BTCUSDT", "U": first, "u": last, "b": bids, "a": []}
    if previous is not None:
        data["pu"] = previous
    return msgspec.json.encode({"stream": "btcusdt@depth@100ms", "data": data})


def _attached_binance_book() -> tuple[Any, Any]:
    parser = BinanceParser()
    sync = BinanceBookSync("BTC/USDT")
    body = msgspec.json.encode(
        {
            "lastUpdateId": 100,
            "bids": [[f"{60000 - i}.00000000", "1.00000000"] for i in range(5)],
            "asks": [["60001.00000000", "2.00000000"]],
        }
    )
    assert sync.on_event(parser.parse_depth_snapshot(body, "BTCUSDT", 1)).applied
    bridge = parser.parse(_binance_diff(100, 101, [("59999.00000000", "0.00000000")]), 2)[0]
    assert sync.on_event(bridge).applied and sync.bridged and sync.last_sequence == 101
    fast = parser.book_fast_path()
    fast.attach("BTC/USDT", sync, "conn-1")
    return fast, sync


def test_a_binance_diff_that_continues_the_book_is_applied_and_published() -> None:
    fast, sync = _attached_binance_book()
    result = fast.apply(_binance_diff(102, 104, [("60000.50000000", "3.00000000")], previous=101), 7, "conn-1")
    assert result is not None
    key, value = result
    delta = decode(value)
    assert key == "binance:BTC/USDT" and (delta.first_sequence, delta.sequence, delta.prev_sequence) == (102, 104, 101)
    assert delta.bids == [(6_000_050_000_000, 300_000_000)] and delta.exchange_ts_ns == 1_723_161_254_089_000_000
    assert sync.last_sequence == 104 and sync.book.best_bid() == (6_000_050_000_000, 300_000_000)


@pytest.mark.parametrize("case", ["stale", "gap", "pu not the last u", "crossing", "not bridged", "other connection"])
def test_a_declined_binance_diff_leaves_the_book_as_it_was(case: str) -> None:
    fast, sync = _attached_binance_book()
    before = (sync.book.bids(), sync.book.asks(), sync.last_sequence)
    first, last, bids, previous, connection = 102, 104, [("60000.50000000", "3.00000000")], None, "conn-1"
    if case == "stale":
        first, last = 100, 101
    elif case == "gap":
        first = 103
    elif case == "pu not the last u":
        previous = 100
    elif case == "crossing":
        bids = [("60002.00000000", "3.00000000")]
    elif case == "not bridged":
        sync.bridged = False
    else:
        connection = "conn-2"
    assert fast.apply(_binance_diff(first, last, bids, previous), 7, connection) is None
    assert (sync.book.bids(), sync.book.asks(), sync.last_sequence) == before
