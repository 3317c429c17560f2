"""Kraken v1's native book-update fast path (``native/src/kraken_book_updates.rs``): byte for byte
what the Python parser, sync rule and encoder publish, on the recorded books and on the same frames
with faults put in; a refused update leaves the book as it was, for the Python path to judge."""

from __future__ import annotations

import random
import re
import zlib
from typing import Any

import msgspec
import pytest

from platform_streams.exchanges.base import FrameError
from platform_streams.exchanges.kraken.book_sync import KrakenBookSync
from platform_streams.exchanges.kraken.instruments import registry_from_asset_pairs
from platform_streams.exchanges.kraken.parser import KrakenParser
from platform_streams.normalisation.normaliser import Normaliser
from platform_streams.schemas import BookSnapshot, decode
from platform_streams.schemas.raw_frames import ConnectionEvent, FrameKind, RawFrame
from platform_streams.topics import BOOK_TOPIC
from tests.exchanges.captures import rest_bodies
from tests.normalisation.test_normaliser import KRAKEN_ASSET_PAIRS, KRAKEN_BOOK, raw_frames


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


def normaliser(fast: bool, first: RawFrame) -> tuple[Normaliser, CountingFastPath | None]:
    built = Normaliser()
    built.set_instruments("kraken", registry_from_asset_pairs(rest_bodies(KRAKEN_ASSET_PAIRS)[0].frame))
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


def assert_fast_equals_python(frames: list[RawFrame]) -> tuple[list[tuple[Any, ...]], int, Normaliser]:
    fast, counting = normaliser(True, frames[0])
    python, _ = normaliser(False, frames[0])
    fast_outcomes, python_outcomes = outcomes(fast, frames), outcomes(python, frames)
    assert len(fast_outcomes) == len(python_outcomes)
    assert fast_outcomes == python_outcomes
    assert books(fast) == books(python)
    assert fast.resyncs == python.resyncs
    assert counting is not None
    return fast_outcomes, counting.taken, fast


def test_on_the_recorded_books_the_fast_path_publishes_what_the_python_path_publishes() -> None:
    frames = raw_frames(KRAKEN_BOOK, "kraken")
    published, taken, built = assert_fast_equals_python(frames)
    updates = sum(1 for frame in frames if frame.payload.endswith(b'"]') and b'"c":"' in frame.payload)
    assert built.resyncs == 0 and updates > 4_000
    assert taken >= updates - 10  # every update but the first of each of the 10 books (it attaches them)
    assert sum(1 for topic, *_ in published if topic == BOOK_TOPIC) == 4_269 + 10


def _with_checksum(frame: bytes, checksum: str) -> bytes:
    return re.sub(rb'"c":"[0-9]+"', b'"c":"' + checksum.encode() + b'"', frame)


def faulted(frames: list[RawFrame], seed: int) -> list[RawFrame]:
    """The recorded frames with faults: wrong checksums, lost updates, a frame of another connection,
    an escaped pair name, malformed levels, a reconnect, and a channel stating another depth."""
    rng = random.Random(seed)
    out: list[RawFrame] = []
    for index, frame in enumerate(frames):
        payload = frame.payload
        # in the second half only, rarely: a resynced book stays down (a capture brings no new snapshot)
        is_update = frame.kind is FrameKind.WEBSOCKET and b'"c":"' in payload and index > len(frames) // 2
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
        elif roll < 0.04:
            out.append(msgspec.structs.replace(frame, connection_id="conn-2"))
            continue
        elif roll < 0.042:
            event = ConnectionEvent("disconnected", [], "test reconnect")
            out.append(
                RawFrame("kraken", frame.connection_id, 0, frame.receive_ts_ns, FrameKind.CONTROL, msgspec.json.encode(event))
            )
        out.append(msgspec.structs.replace(frame, payload=payload))
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_with_faults_put_in_the_fast_path_declines_and_the_python_path_publishes_the_same(seed: int) -> None:
    frames = faulted(raw_frames(KRAKEN_BOOK, "kraken"), seed)
    published, taken, built = assert_fast_equals_python(frames)
    assert built.resyncs > 0 and taken > 2_000
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
