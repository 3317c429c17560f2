"""The normaliser on real exchange captures: frames in, canonical events out, books kept honest."""

from __future__ import annotations

import msgspec
import pytest

from platform_streams.exchanges.base import FrameError
from platform_streams.exchanges.kraken.instruments import registry_from_asset_pairs
from platform_streams.exchanges.kraken_v2.instruments import registry_from_asset_pairs as kraken_v2_registry_from_asset_pairs
from platform_streams.exchanges.okx.instruments import registry_from_instruments
from platform_streams.normalisation.normaliser import TAKEOVER_REASON, Normaliser
from platform_streams.schemas import BookDelta, BookResync, BookSnapshot, SnapshotRequest, Trade, decode
from platform_streams.schemas.raw_frames import ConnectionEvent, FrameKind, RawFrame
from platform_streams.topics import BBO_TOPIC, BOOK_TOPIC, RESYNC_TOPIC, TRADE_TOPIC
from tests.exchanges.captures import read_capture, rest_bodies

BINANCE_2024 = "binance/2024-08-08_hftbacktest_spot_BTCUSDT.jsonl.gz"
OKX_BOOKS = "okx/2022-05-13_cryptofeed_v5_books.ws.jsonl"
KRAKEN_BOOK = "kraken/2021-04-17_cryptofeed_v1_book.ws.jsonl"
KRAKEN_ASSET_PAIRS = "kraken/2021-04-17_cryptofeed_AssetPairs.rest.jsonl"
KRAKEN_V2_BOOK = "kraken/2026-08-02_crossbook_v2_book25_BTC-USD.jsonl"
KRAKEN_V2_RESUBSCRIBED = "kraken/2026-08-01_crossbook_v2_book10_BTC-USD_resubscribe.jsonl"


def session_start(exchange: str, connection_id: str = "conn-1", symbols: tuple[str, ...] = ()) -> RawFrame:
    """The control record ingestion writes before a session's first frame."""
    payload = msgspec.json.encode(ConnectionEvent("connected", list(symbols)))
    return RawFrame(exchange, connection_id, 0, 0, FrameKind.CONTROL, payload)


def raw_frames(capture: str, exchange: str, rest_path: str = "") -> list[RawFrame]:
    frames = [session_start(exchange)]
    for sequence, record in enumerate(read_capture(capture)):
        if record.direction == "in":
            frames.append(RawFrame(exchange, "conn-1", sequence, record.receive_ts_ns, FrameKind.WEBSOCKET, record.frame))
        elif record.direction == "rest":
            frames.append(RawFrame(exchange, "conn-1", sequence, record.receive_ts_ns, FrameKind.REST, record.frame, rest_path))
    return frames


def run(normaliser: Normaliser, frames: list[RawFrame]) -> list:
    outputs = []
    for frame in frames:
        outputs.extend(normaliser.handle(frame))
    return outputs


def by_topic(outputs: list, topic: str) -> list:
    return [decode(o.value) for o in outputs if o.topic == topic]


def test_binance_trades_and_book_from_snapshot_and_diffs() -> None:
    normaliser = Normaliser()
    outputs = run(normaliser, raw_frames(BINANCE_2024, "binance", "/api/v3/depth?symbol=BTCUSDT&limit=1000"))
    trades = by_topic(outputs, TRADE_TOPIC)
    assert len(trades) == 19_904 and all(isinstance(t, Trade) for t in trades)
    assert [t.sequence for t in trades] == sorted(t.sequence for t in trades)
    book_events = by_topic(outputs, BOOK_TOPIC)
    assert isinstance(book_events[0], BookSnapshot)
    assert not any(isinstance(e, BookResync) for e in book_events)
    assert sum(isinstance(e, BookDelta) for e in book_events) == 6_493  # per INDEX.md: the bridging diff and 6,492 more
    assert len(by_topic(outputs, BBO_TOPIC)) == 73_174
    sync = normaliser.books()[("binance", "BTC/USDT")]
    assert sync.live and not sync.book.is_crossed()
    assert all(o.key == "binance:BTC/USDT" for o in outputs)


def test_okx_books_with_checksums_never_resync() -> None:
    normaliser = Normaliser()
    normaliser.set_instruments(
        "okx", registry_from_instruments([r.frame for r in rest_bodies("okx/2022-05-13_cryptofeed_instruments.rest.jsonl")])
    )
    outputs = run(normaliser, raw_frames(OKX_BOOKS, "okx"))
    events = by_topic(outputs, BOOK_TOPIC)
    assert events and not any(isinstance(e, BookResync) for e in events)
    assert normaliser.resyncs == 0
    assert all(sync.live for sync in normaliser.books().values())


def test_kraken_books_keep_the_depth_their_frames_were_subscribed_at() -> None:
    """The capture subscribed at depth 1000 (its frames say ``book-1000``). A normaliser with default
    settings must keep every book at that depth: truncated to 10 levels (a default depth), the first
    update that removes a top-10 level would leave a hole the checksum cannot match, and every book
    would be dropped."""
    normaliser = Normaliser()
    normaliser.set_instruments(
        "kraken", registry_from_asset_pairs(rest_bodies("kraken/2021-04-17_cryptofeed_AssetPairs.rest.jsonl")[0].frame)
    )
    outputs = run(normaliser, raw_frames(KRAKEN_BOOK, "kraken"))
    events = by_topic(outputs, BOOK_TOPIC)
    assert normaliser.resyncs == 0 and not any(isinstance(e, BookResync) for e in events)
    assert sum(isinstance(e, BookSnapshot) for e in events) == 10
    assert sum(isinstance(e, BookDelta) for e in events) == 4_269  # every checksummed update applied
    books = normaliser.books()
    assert len(books) == 10 and all(sync.live and sync.depth == 1000 for sync in books.values())
    assert max(sync.book.bid_depth for sync in books.values()) > 10  # kept deeper than any default


@pytest.mark.parametrize("capture", [KRAKEN_V2_RESUBSCRIBED, KRAKEN_V2_BOOK])
def test_kraken_v2_books_keep_the_depth_their_subscription_was_acknowledged_with(capture: str) -> None:
    normaliser = Normaliser()
    normaliser.set_instruments("krakenv2", kraken_v2_registry_from_asset_pairs(rest_bodies(KRAKEN_ASSET_PAIRS)[0].frame))
    events = by_topic(run(normaliser, raw_frames(capture, "krakenv2")), BOOK_TOPIC)
    assert normaliser.resyncs == 0 and not any(isinstance(e, BookResync) for e in events)
    snapshots, deltas = {KRAKEN_V2_RESUBSCRIBED: (5, 296), KRAKEN_V2_BOOK: (1, 2_051)}[capture]
    assert (sum(isinstance(e, BookSnapshot) for e in events), sum(isinstance(e, BookDelta) for e in events)) == (
        snapshots,
        deltas,
    )
    (sync,) = normaliser.books().values()
    assert sync.live and sync.depth == {KRAKEN_V2_RESUBSCRIBED: 10, KRAKEN_V2_BOOK: 25}[capture]


def test_a_lost_okx_update_resyncs_and_asks_ingestion_for_a_snapshot() -> None:
    normaliser = Normaliser()
    normaliser.set_instruments(
        "okx", registry_from_instruments([r.frame for r in rest_bodies("okx/2022-05-13_cryptofeed_instruments.rest.jsonl")])
    )
    frames = raw_frames(OKX_BOOKS, "okx")
    updates = [i for i, f in enumerate(frames) if b'"action":"update"' in f.payload]
    lost = updates[5]
    outputs = run(normaliser, frames[:lost] + frames[lost + 1 : lost + 40])
    resyncs = [e for e in by_topic(outputs, BOOK_TOPIC) if isinstance(e, BookResync)]
    requests = by_topic(outputs, RESYNC_TOPIC)
    assert resyncs and "checksum" in resyncs[0].reason
    assert requests and isinstance(requests[0], SnapshotRequest)
    registry = normaliser._registries["okx"]  # noqa: SLF001
    assert requests[0].connection_id == "conn-1"
    assert {r.exchange_symbol for r in requests} == {registry.by_symbol(r.symbol).exchange_symbol for r in resyncs}
    assert all(o.key == "conn-1" for o in outputs if o.topic == RESYNC_TOPIC)


def test_a_new_connection_session_resets_live_books() -> None:
    normaliser = Normaliser()
    run(normaliser, raw_frames(BINANCE_2024, "binance", "/api/v3/depth?symbol=BTCUSDT&limit=1000")[:5_000])
    assert normaliser.books()[("binance", "BTC/USDT")].live
    control = RawFrame(
        "binance", "conn-1", 10**9, 1, FrameKind.CONTROL, msgspec.json.encode(ConnectionEvent("connected", ["BTCUSDT"]))
    )
    outputs = normaliser.handle(control)
    assert [type(decode(o.value)) for o in outputs] == [BookResync]
    assert not normaliser.books()[("binance", "BTC/USDT")].live
    # while it waits, a re-request is due only after the retry interval
    assert normaliser.overdue_snapshot_requests(1 + 10**9) == []
    overdue = normaliser.overdue_snapshot_requests(1 + 31 * 10**9)
    assert [decode(o.value).exchange_symbol for o in overdue] == ["BTCUSDT"]


def test_a_replica_taking_over_a_session_mid_stream_rebuilds_its_books() -> None:
    """After a rebalance the new owner of a partition reads deltas whose snapshot went to another
    replica: it says the book is being rebuilt (consumers drop what the old owner published) and
    asks for a snapshot, then serves the book again from it."""
    registry = registry_from_instruments([r.frame for r in rest_bodies("okx/2022-05-13_cryptofeed_instruments.rest.jsonl")])
    frames = raw_frames(OKX_BOOKS, "okx")
    updates = [i for i, f in enumerate(frames) if b'"action":"update"' in f.payload]
    first_owner, second_owner = Normaliser(), Normaliser()
    for normaliser in (first_owner, second_owner):
        normaliser.set_instruments("okx", registry)
    run(first_owner, frames[: updates[10]])
    outputs = run(second_owner, frames[updates[10] : updates[20]])
    resyncs = [e for e in by_topic(outputs, BOOK_TOPIC) if isinstance(e, BookResync)]
    requests = by_topic(outputs, RESYNC_TOPIC)
    symbols = {e.symbol for e in resyncs}
    assert symbols and all(TAKEOVER_REASON in e.reason for e in resyncs)
    assert {registry.by_symbol(s).exchange_symbol for s in symbols} == {r.exchange_symbol for r in requests}
    assert not [e for e in by_topic(outputs, BOOK_TOPIC) if isinstance(e, BookDelta)]  # nothing served from an unknown book
    snapshots = [f for f in frames if b'"action":"snapshot"' in f.payload]
    run(second_owner, snapshots)
    assert all(sync.live for sync in second_owner.books().values())
    # a session this replica saw begin is its own: no takeover
    fresh = Normaliser()
    fresh.set_instruments("okx", registry)
    assert not [e for e in by_topic(run(fresh, frames[: updates[20]]), BOOK_TOPIC) if isinstance(e, BookResync)]


def test_a_replica_whose_partition_comes_back_takes_its_books_over_again() -> None:
    """A replica read a session's start, then its partition went to another replica (a rebalance, or a
    broker outage that lost every assignment) and came back: the books must be rebuilt from a snapshot,
    not continued (or, for a book it never had, buffered forever) as if nothing had happened."""
    registry = registry_from_instruments([r.frame for r in rest_bodies("okx/2022-05-13_cryptofeed_instruments.rest.jsonl")])
    frames = raw_frames(OKX_BOOKS, "okx")
    updates = [i for i, f in enumerate(frames) if b'"action":"update"' in f.payload]
    replica = Normaliser()
    replica.set_instruments("okx", registry)
    before = by_topic(run(replica, frames[: updates[10]]), "md.book")
    assert before and not [e for e in before if isinstance(e, BookResync)]
    replica.forget_connections(["conn-1"])  # what its daemon does when the partition is revoked or lost
    assert replica.books() == {}
    back = run(replica, frames[updates[20] : updates[30]])
    resyncs = [e for e in by_topic(back, "md.book") if isinstance(e, BookResync)]
    assert resyncs and all(TAKEOVER_REASON in e.reason for e in resyncs)
    requested = {r.exchange_symbol for r in by_topic(back, "ctl.resync")}
    assert requested == {registry.by_symbol(e.symbol).exchange_symbol for e in resyncs}
    assert not [e for e in by_topic(back, "md.book") if isinstance(e, BookDelta)]


@pytest.mark.parametrize(
    "frame",
    [
        RawFrame("binance", "c", 1, 1, FrameKind.WEBSOCKET, b'{"stream":"btcusdt@trade","data":{"e":"trade"'),
        RawFrame("binance", "c", 1, 1, FrameKind.WEBSOCKET, b'{"stream":"btcusdt@nosuch","data":{"e":"nosuch"}}'),
        RawFrame("nowhere", "c", 1, 1, FrameKind.WEBSOCKET, b"{}"),
        RawFrame("binance", "c", 1, 1, FrameKind.CONTROL, b"not json"),
        RawFrame("binance", "c", 1, 1, FrameKind.REST, b"{}", "/api/v3/ticker/price"),
        RawFrame("okx", "c", 1, 1, FrameKind.WEBSOCKET, b'{"arg":{"channel":"trades","instId":"\xff"},"data":[]}'),
    ],
    ids=["truncated", "unknown-channel", "unknown-exchange", "bad-control", "unknown-rest", "not-utf8"],
)
def test_bad_frames_raise_frame_errors_with_the_exchange(frame: RawFrame) -> None:
    with pytest.raises(FrameError) as error:
        Normaliser().handle(frame)
    assert error.value.exchange == frame.exchange


def ccxt_frame(payload: bytes, sequence: int = 1) -> RawFrame:
    return RawFrame("bybit", "ccxt-bybit", sequence, 1_700_000_000_000_000_000, FrameKind.WEBSOCKET, payload, format="ccxt")


def test_ccxt_format_frames_from_any_exchange() -> None:
    from platform_streams.exchanges.instruments import Instrument, InstrumentRegistry

    normaliser = Normaliser()
    normaliser.set_instruments(
        "bybit", InstrumentRegistry("bybit", [Instrument("bybit", "BTC/USDT", "BTC/USDT", "BTC", "USDT", 2, 6, 1, 1)])
    )
    trade = normaliser.handle(
        ccxt_frame(
            b'{"type":"trade","symbol":"BTC/USDT","id":"77","timestamp":1700000000123,"side":"sell","price":"65000.10","amount":"0.25"}'
        )
    )
    event = decode(trade[0].value)
    assert trade[0].topic == TRADE_TOPIC and trade[0].key == "bybit:BTC/USDT"
    assert (event.price, event.price_scale, event.size, event.size_scale, event.trade_id, event.sequence) == (
        6_500_010,
        2,
        250_000,
        6,
        "77",
        77,
    )
    assert event.exchange_ts_ns == 1_700_000_000_123_000_000
    book = normaliser.handle(
        ccxt_frame(
            b'{"type":"book","symbol":"BTC/USDT","timestamp":0,"nonce":5,"bids":[["65000.1","1"]],"asks":[["65000.2","2.5"]]}', 2
        )
    )
    snapshot = decode(book[0].value)
    assert (
        isinstance(snapshot, BookSnapshot)
        and snapshot.bids == [(6_500_010, 1_000_000)]
        and snapshot.asks == [(6_500_020, 2_500_000)]
    )
    assert normaliser.books()[("bybit", "BTC/USDT")].live
    with pytest.raises(FrameError, match="more than|without rounding"):
        normaliser.handle(
            ccxt_frame(
                b'{"type":"trade","symbol":"BTC/USDT","id":"78","timestamp":1,"side":"buy","price":"65000.001","amount":"1"}', 3
            )
        )
    with pytest.raises(FrameError, match="unknown frame format"):
        normaliser.handle(RawFrame("bybit", "c", 1, 1, FrameKind.WEBSOCKET, b"{}", format="nosuch"))
