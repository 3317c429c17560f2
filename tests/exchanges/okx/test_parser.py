"""OKX frames → canonical events, field by field on real frames, and every captured frame parses."""

from __future__ import annotations

import collections

import msgspec
import pytest

from platform_streams.books.sync import BookChecksum
from platform_streams.exchanges.base import ExchangeErrorFrame, MalformedFrame, UnknownChannel, UnknownInstrument
from platform_streams.exchanges.instruments import InstrumentRegistry
from platform_streams.exchanges.okx.parser import OkxParser
from platform_streams.schemas import BestBidOffer, BookDelta, BookSnapshot, Candle, Side, Trade, encode
from tests.exchanges.captures import first_frame, received_frames
from tests.exchanges.okx.conftest import BOOKS, BOOKS_L2_TBT


@pytest.fixture
def parser(okx_instruments: dict[str, InstrumentRegistry]) -> OkxParser:
    return OkxParser(okx_instruments[BOOKS])


def test_trade_frame(parser: OkxParser) -> None:
    record = first_frame(BOOKS, b'"trades","instId":"BTC-USDT"},"data"')
    assert parser.parse(record.frame, record.receive_ts_ns) == [
        Trade(
            "okx",
            "BTC/USDT",
            1_652_459_224_818_000_000,
            1_652_459_225_507_260_300,
            338_476_307,
            "338476307",
            Side.BUY,
            302_360,
            20_000,
            1,
            8,
        )
    ]


def test_ticker_frame(parser: OkxParser) -> None:
    record = first_frame(BOOKS, b'"tickers","instId":"UNI-USD-SWAP"},"data"')
    assert parser.parse(record.frame, record.receive_ts_ns) == [
        BestBidOffer(
            exchange="okx",
            symbol="UNI/USD:UNI",
            exchange_ts_ns=1_652_459_223_143_000_000,
            receive_ts_ns=1_652_459_225_506_837_000,
            sequence=1_652_459_225_506_837_000,  # tickers carry no sequence: the receive time
            bid_price=5_134,
            bid_size=96,
            ask_price=5_142,
            ask_size=25,
            price_scale=3,
            size_scale=0,
        )
    ]


def test_books_snapshot_frame(parser: OkxParser) -> None:
    record = first_frame(BOOKS, b'"action":"snapshot"')
    parsed = parser.parse_frame(record.frame, record.receive_ts_ns)
    (snapshot,) = parsed.events
    assert isinstance(snapshot, BookSnapshot)
    assert (snapshot.symbol, snapshot.exchange_ts_ns, snapshot.sequence) == (
        "BTC/USD:BTC-220527",
        1_652_459_225_393_000_000,
        record.receive_ts_ns,
    )
    assert snapshot.asks[:2] == [(302_388, 2), (302_495, 50)]
    assert snapshot.bids[-1] == (178_295, 1)
    assert (len(snapshot.bids), len(snapshot.asks)) == (72, 64)  # a thin future's whole book
    assert parsed.checksum == BookChecksum(1_054_815_633)


def test_books_update_frame(parser: OkxParser) -> None:
    record = first_frame(BOOKS, b'"action":"update"')
    parsed = parser.parse_frame(record.frame, record.receive_ts_ns)
    assert parsed.events == [
        BookDelta(
            exchange="okx",
            symbol="BTC/USD:BTC-220527",
            exchange_ts_ns=1_652_459_225_464_000_000,
            receive_ts_ns=1_652_459_225_708_481_000,
            sequence=1_652_459_225_708_481_000,  # no seqId before 2022: the receive time
            first_sequence=1_652_459_225_708_481_000,
            prev_sequence=0,
            bids=[(301_826, 452)],
            asks=[(302_494, 0), (302_610, 4), (303_103, 19)],
            price_scale=1,
            size_scale=0,
        )
    ]
    assert parsed.checksum == BookChecksum(-914_047_754)


def test_books_l2_tbt_update_with_tiny_prices(okx_instruments: dict[str, InstrumentRegistry]) -> None:
    record = first_frame(BOOKS_L2_TBT, b'ELON-USDT"},"action":"update')
    (delta,) = OkxParser(okx_instruments[BOOKS_L2_TBT]).parse(record.frame, record.receive_ts_ns)
    assert isinstance(delta, BookDelta)
    assert delta.asks == [(74_527, 445_226_872), (113_380, 0)]  # 0.00000074527 and 0.0000011338 at scale 11
    assert delta.bids == []


def test_seq_ids_become_the_sequences(parser: OkxParser) -> None:
    frame = (
        b'{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{"asks":[["30243.5","1.2112","0","4"]],'
        b'"bids":[],"ts":"1652459225453","checksum":-652563973,"seqId":123457,"prevSeqId":123456}]}'
    )
    (delta,) = parser.parse(frame, 99)
    assert isinstance(delta, BookDelta)
    assert (delta.first_sequence, delta.sequence, delta.prev_sequence) == (123_457, 123_457, 123_456)


def test_candle_frame(parser: OkxParser) -> None:
    frame = b'{"arg":{"channel":"candle1m","instId":"BTC-USDT"},"data":[["1652459220000","30236.1","30250","30230.2","30240.5","12.5","378000.1","378000.1","1"]]}'
    assert parser.parse(frame, 5) == [
        Candle(
            "okx",
            "BTC/USDT",
            5,
            5,
            5,
            60,
            1_652_459_220_000_000_000,
            302_361,
            302_500,
            302_302,
            302_405,
            1_250_000_000,
            0,
            True,
            1,
            8,
        )
    ]


def test_every_captured_frame_parses(okx_instruments: dict[str, InstrumentRegistry]) -> None:
    expected = {
        BOOKS: ({"BookDelta": 287, "Trade": 74, "BestBidOffer": 28, "BookSnapshot": 3}, {"subscribe": 18}),
        BOOKS_L2_TBT: ({"BookDelta": 3_659, "BookSnapshot": 20, "Trade": 19, "BestBidOffer": 19}, {"subscribe": 60}),
    }
    for capture, (event_counts, control_counts) in expected.items():
        parser = OkxParser(okx_instruments[capture])
        events: collections.Counter[str] = collections.Counter()
        controls: collections.Counter[str] = collections.Counter()
        for record in received_frames(capture):
            parsed = parser.parse_frame(record.frame, record.receive_ts_ns)
            events.update(type(event).__name__ for event in parsed.events)
            if parsed.control:
                controls[parsed.control] += 1
        assert (dict(events), dict(controls)) == (event_counts, control_counts), capture


def test_pong_and_replies_are_control_frames(parser: OkxParser) -> None:
    assert parser.parse_frame(b"pong", 0).control == "pong"
    assert parser.parse_frame(b'{"event":"subscribe","arg":{"channel":"books","instId":"BTC-USDT"}}', 0).control == "subscribe"


@pytest.mark.parametrize(
    ("frame", "error", "reason"),
    [
        (
            b'{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"1","px":"30236"',
            MalformedFrame,
            "truncated",
        ),
        (
            b'{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"1","px":30236,"sz":"1","side":"buy","ts":"1"}]}',
            MalformedFrame,
            "Expected `str`",
        ),
        (
            b'{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"1","px":"30236.15","sz":"1","side":"buy","ts":"1"}]}',
            MalformedFrame,
            "more than 1 decimals",
        ),
        (
            b'{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"1","px":"1","sz":"1","side":"up","ts":"1"}]}',
            MalformedFrame,
            "side",
        ),
        (
            b'{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"partial","data":[{"asks":[],"bids":[],"ts":"1"}]}',
            MalformedFrame,
            "action 'partial'",
        ),
        (b'{"arg":{"channel":"mark-price","instId":"BTC-USDT"},"data":[{"markPx":"1"}]}', UnknownChannel, "mark-price"),
        (
            b'{"arg":{"channel":"candle1M","instId":"BTC-USDT"},"data":[["1","1","1","1","1","1"]]}',
            UnknownChannel,
            "no fixed length",
        ),
        (b'{"event":"error","code":"60012","msg":"Invalid request"}', ExchangeErrorFrame, "60012"),
        (
            b'{"arg":{"channel":"trades","instId":"NOPE-USDT"},"data":[{"instId":"NOPE-USDT","tradeId":"1","px":"1","sz":"1","side":"buy","ts":"1"}]}',
            UnknownInstrument,
            "NOPE-USDT",
        ),
        (b'{"hello":1}', MalformedFrame, "neither a push"),
    ],
)
def test_bad_frames_raise_a_specific_error_with_a_reason(
    parser: OkxParser, frame: bytes, error: type[Exception], reason: str
) -> None:
    with pytest.raises(error, match=reason) as raised:
        parser.parse(frame, 0)
    assert raised.value.exchange == "okx"  # type: ignore[attr-defined]
    assert raised.value.frame == frame  # type: ignore[attr-defined]


def _as_bbo_tbt(frame: bytes) -> bytes | None:
    """A recorded books push respelled as the bbo-tbt push OKX sends for the same book: the channel,
    no action, and each side cut to its best level (bbo-tbt pushes have the books push's shape)."""
    push = msgspec.json.decode(frame)
    if "data" not in push or push.get("arg", {}).get("channel") not in ("books", "books-l2-tbt"):
        return None
    entry = push["data"][0]
    bbo = {key: value for key, value in entry.items() if key not in ("asks", "bids", "checksum")}
    bbo["asks"], bbo["bids"] = entry["asks"][:1], entry["bids"][:1]
    return msgspec.json.encode({"arg": {**push["arg"], "channel": "bbo-tbt"}, "data": [bbo]})


@pytest.mark.parametrize("capture", [BOOKS, BOOKS_L2_TBT])
def test_the_native_top_of_book_path_gives_what_the_parser_and_encoder_give_on_recorded_books(
    okx_instruments: dict[str, InstrumentRegistry], capture: str
) -> None:
    parser = OkxParser(okx_instruments[capture])
    top_of_book = parser.top_of_book_fast_path()
    assert top_of_book is not None
    taken = 0
    for record in received_frames(capture):
        frame = _as_bbo_tbt(record.frame)
        if frame is None:
            continue
        (event,) = parser.parse(frame, record.receive_ts_ns)
        assert top_of_book(frame, record.receive_ts_ns) == (event.key, encode(event))
        taken += 1
    assert taken > 250


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        (
            b'{"arg":{"channel":"bbo-tbt","instId":"BTC-USDT"},"data":[{"asks":[],"bids":[["30000.1","2","0","1"]],"ts":"1652400000123","seqId":9}]}',
            "empty side",
        ),
        (
            b'{"arg":{"channel":"bbo-tbt","instId":"BTC-USDT"},"data":[{"asks":[["1e5","1"]],"bids":[],"ts":"1652400000123"}]}',
            MalformedFrame,
        ),
        (
            b'{"arg":{"channel":"bbo-tbt","instId":"FOO-BAZ"},"data":[{"asks":[],"bids":[],"ts":"1652400000123"}]}',
            UnknownInstrument,
        ),
        (
            b'{"arg":{"channel":"bbo-tbt","instId":"BTC-USDT"},"data":[{"asks":[["1"]],"bids":[],"ts":"1652400000123"}]}',
            MalformedFrame,
        ),
        (b'{"arg":{"channel":"bbo-tbt","instId":"BTC-USDT"},"data":[{"asks":[],"bids":[],"ts":"16524.5"}]}', MalformedFrame),
    ],
)
def test_the_native_top_of_book_path_maps_an_empty_side_and_leaves_bad_pushes_to_the_parser(
    parser: OkxParser, frame: bytes, expected: str | type[Exception]
) -> None:
    top_of_book = parser.top_of_book_fast_path()
    assert top_of_book is not None
    if expected == "empty side":
        (event,) = parser.parse(frame, 5)
        assert top_of_book(frame, 5) == (event.key, encode(event))
        assert (event.ask_price, event.ask_size, event.sequence) == (0, 0, 9)
        return
    assert top_of_book(frame, 5) is None
    with pytest.raises(expected):  # type: ignore[call-overload]
        parser.parse_frame(frame, 5)


def test_the_native_trade_path_gives_what_the_parser_and_encoder_give_on_every_recorded_trade(parser: OkxParser) -> None:
    trade_fast = parser.trade_fast_path()
    assert trade_fast is not None
    taken = 0
    for record in received_frames(BOOKS):
        if b'"channel":"trades"' not in record.frame[:40]:
            continue
        events = parser.parse(record.frame, record.receive_ts_ns)
        fast = trade_fast(record.frame, record.receive_ts_ns)
        if len(events) == 1:
            assert fast == (events[0].key, encode(events[0]))
            taken += 1
        else:
            assert fast is None  # several trades in one push: the parser's
    assert taken > 50


@pytest.mark.parametrize(
    ("trade", "expected"),
    [
        ('"tradeId":"abc","px":"30000.1","sz":"2","side":"sell"', "sequence 0"),
        ('"tradeId":"1","px":"30000.1","sz":"2","side":"short"', MalformedFrame),
        ('"tradeId":"1","px":"3e4","sz":"2","side":"buy"', MalformedFrame),
        ('"tradeId":"1","px":"30000.12","sz":"2","side":"buy"', MalformedFrame),
    ],
)
def test_the_native_trade_path_maps_odd_ids_and_leaves_bad_trades_to_the_parser(
    parser: OkxParser, trade: str, expected: str | type[Exception]
) -> None:
    frame = (
        '{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT",' + trade + ',"ts":"1652400000123"}]}'
    ).encode()
    trade_fast = parser.trade_fast_path()
    assert trade_fast is not None
    if expected == "sequence 0":
        (event,) = parser.parse(frame, 5)
        assert trade_fast(frame, 5) == (event.key, encode(event)) and event.sequence == 0
        return
    assert trade_fast(frame, 5) is None
    with pytest.raises(expected):  # type: ignore[call-overload]
        parser.parse_frame(frame, 5)
