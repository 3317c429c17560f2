"""Kraken v1 frames → canonical events, field by field on real frames, and every captured frame parses."""

from __future__ import annotations

import collections

import pytest

from platform_streams.books.sync import BookChecksum
from platform_streams.exchanges.base import BookSubscription, ExchangeErrorFrame, FrameError, MalformedFrame, UnknownChannel
from platform_streams.exchanges.instruments import InstrumentRegistry
from platform_streams.exchanges.kraken.parser import KrakenParser
from platform_streams.schemas import BestBidOffer, BookDelta, BookSnapshot, Candle, Side, Trade, encode
from tests.exchanges.captures import first_frame, received_frames
from tests.exchanges.kraken.conftest import BOOK, TICKER, TRADE


@pytest.fixture
def parser(kraken_instruments: InstrumentRegistry) -> KrakenParser:
    return KrakenParser(kraken_instruments)


def test_book_snapshot_frame(parser: KrakenParser) -> None:
    record = first_frame(BOOK, b'"bs"')
    parsed = parser.parse_frame(record.frame, record.receive_ts_ns)
    (snapshot,) = parsed.events
    assert isinstance(snapshot, BookSnapshot)
    assert (snapshot.exchange, snapshot.symbol, snapshot.receive_ts_ns, snapshot.sequence) == (
        "kraken",
        "ADA/BTC",
        1_618_678_133_626_511_000,
        1_618_678_133_626_511_000,
    )
    assert (snapshot.price_scale, snapshot.size_scale) == (8, 8)  # pair_decimals 8 although the text has 9 decimals
    assert snapshot.asks[0] == (2_290, 1_335_587_450_757)  # "0.000022900", "13355.87450757"
    assert snapshot.bids[-1] == (1, 11_104_000_000_000)  # "0.000000010", "111040.00000000"
    assert (len(snapshot.bids), len(snapshot.asks)) == (707, 841)  # the whole book: under the subscribed 1,000
    assert parsed.checksum is None  # v1 snapshots carry no checksum
    assert parsed.subscriptions == (BookSubscription("ADA/BTC", 1000),)  # the channel name: book-1000


def test_book_update_frame(parser: KrakenParser) -> None:
    record = first_frame(BOOK, b'"c":')
    parsed = parser.parse_frame(record.frame, record.receive_ts_ns)
    assert parsed.events == [
        BookDelta(
            exchange="kraken",
            symbol="XMR/USD",
            exchange_ts_ns=1_618_678_133_365_913_000,  # the newest level time
            receive_ts_ns=1_618_678_134_213_106_000,
            sequence=1_618_678_134_213_106_000,  # no sequence on v1: the receive time
            first_sequence=1_618_678_134_213_106_000,
            prev_sequence=0,
            bids=[(35_415, 500_000_000)],
            asks=[],
            price_scale=2,
            size_scale=8,
        )
    ]
    assert parsed.checksum == BookChecksum(2_583_817_756, price_text_scale=8, size_text_scale=8)
    assert parsed.subscriptions == (BookSubscription("XMR/USD", 1000),)


def test_two_part_update_is_one_delta_with_one_checksum(parser: KrakenParser) -> None:
    record = first_frame(BOOK, b'},{"b"')
    parsed = parser.parse_frame(record.frame, record.receive_ts_ns)
    (delta,) = parsed.events
    assert isinstance(delta, BookDelta)
    assert (delta.symbol, delta.asks, delta.bids) == ("SC/EUR", [(4_299, 36_463_028_272_081)], [(4_299, 0)])
    assert delta.exchange_ts_ns == 1_618_678_145_920_708_000
    assert parsed.checksum == BookChecksum(4_105_471_083, 6, 8)


def test_republished_level_is_an_ordinary_level(parser: KrakenParser) -> None:
    frame = b'[992,{"a":[["354.20000000","1.00000000","1618678133.365913","r"]],"c":"1"},"book-10","XMR/USD"]'
    (delta,) = parser.parse(frame, 1)
    assert isinstance(delta, BookDelta) and delta.asks == [(35_420, 100_000_000)]


def test_trade_frames(parser: KrakenParser) -> None:
    record = first_frame(TRADE, b'"s","m",""],[')
    assert parser.parse(record.frame, record.receive_ts_ns) == [
        Trade(
            "kraken",
            "XMR/USD",
            1_618_678_150_826_417_000,
            1_618_678_150_856_557_100,
            0,
            "1618678150.826417-0",
            Side.SELL,
            35_404,
            28_245_396,
            2,
            8,
        ),
        Trade(
            "kraken",
            "XMR/USD",
            1_618_678_150_827_816_000,
            1_618_678_150_856_557_100,
            0,
            "1618678150.827816-1",
            Side.SELL,
            35_381,
            171_754_604,
            2,
            8,
        ),
    ]


def test_ticker_frame(parser: KrakenParser) -> None:
    record = first_frame(TICKER, b'"ticker","XMR/USD"')
    receive = 1_618_678_132_949_688_000
    assert parser.parse(record.frame, record.receive_ts_ns) == [
        BestBidOffer("kraken", "XMR/USD", receive, receive, receive, 35_432, 687_748_868, 35_524, 2_719_106_411, 2, 8)
    ]


def test_spread_and_ohlc_frames(parser: KrakenParser) -> None:
    spread = b'[1,["5698.40000","5700.00000","1542057299.545897","1.01234567","0.98765432"],"spread","XBT/USD"]'
    assert parser.parse(spread, 9) == [
        BestBidOffer("kraken", "BTC/USD", 1_542_057_299_545_897_000, 9, 9, 56_984, 101_234_567, 57_000, 98_765_432, 1, 8)
    ]
    ohlc = b'[2,["1542057314.748456","1542057360.435743","3586.70000","3586.70000","3586.60000","3586.60000","3586.68894","0.03373000",2],"ohlc-5","XBT/USD"]'
    assert parser.parse(ohlc, 9) == [
        Candle(
            "kraken",
            "BTC/USD",
            1_542_057_314_748_456_000,
            9,
            9,
            300,
            1_542_057_060_435_743_000,
            35_867,
            35_867,
            35_866,
            35_866,
            3_373_000,
            2,
            False,
            1,
            8,
        )
    ]


def test_every_captured_frame_parses(parser: KrakenParser) -> None:
    expected = {
        BOOK: ({"BookSnapshot": 10, "BookDelta": 4_269}, {"heartbeat": 31, "subscribed": 10, "status": 1}),
        TRADE: ({"Trade": 10}, {"heartbeat": 30, "subscribed": 10, "status": 1}),
        TICKER: ({"BestBidOffer": 18}, {"heartbeat": 31, "subscribed": 10, "status": 1}),
    }
    for capture, (event_counts, control_counts) in expected.items():
        for each_parser in (parser, KrakenParser()):  # with AssetPairs, and at the text's own scale
            events: collections.Counter[str] = collections.Counter()
            controls: collections.Counter[str] = collections.Counter()
            for record in received_frames(capture):
                parsed = each_parser.parse_frame(record.frame, record.receive_ts_ns)
                events.update(type(event).__name__ for event in parsed.events)
                if parsed.control:
                    controls[parsed.control] += 1
            assert (dict(events), dict(controls)) == (event_counts, control_counts), capture


@pytest.mark.parametrize(
    ("frame", "error", "reason"),
    [
        (
            b'[992,{"b":[["354.15000000","5.00000000","1618678133.365913"]],"c":"2583817756"},"book-1000","XMR',
            MalformedFrame,
            "truncated",
        ),
        (
            b'[992,{"b":[[354.15,"5.00000000","1618678133.365913"]],"c":"1"},"book-1000","XMR/USD"]',
            MalformedFrame,
            "Expected `str`",
        ),
        (
            b'[992,{"b":[["354.155","5.00000000","1618678133.365913"]],"c":"1"},"book-1000","XMR/USD"]',
            MalformedFrame,
            "more than 2 decimals",
        ),
        (b'[992,{"b":[["354.15","5.0","yesterday"]],"c":"1"},"book-1000","XMR/USD"]', MalformedFrame, "not seconds"),
        (b'[992,{"b":[["354.15","5.0","1.0"]],"c":"x1"},"book-1000","XMR/USD"]', MalformedFrame, "checksum"),
        (b'[992,{},"book-1000","XMR/USD"]', MalformedFrame, "neither a snapshot nor"),
        (b'[992,["a"],"openOrders","XMR/USD"]', UnknownChannel, "openOrders"),
        (b'[992,["1","2","3","4","5","6","7","8",9],"ohlc-2","XMR/USD"]', UnknownChannel, "ohlc interval"),
        (
            b'{"event":"subscriptionStatus","status":"error","errorMessage":"Currency pair not supported","pair":"NOPE/USD"}',
            ExchangeErrorFrame,
            "not supported",
        ),
        (b'{"event":"somethingNew"}', UnknownChannel, "somethingNew"),
        (b"[1,2]", MalformedFrame, "2 elements"),
    ],
)
def test_bad_frames_raise_a_specific_error_with_a_reason(
    parser: KrakenParser, frame: bytes, error: type[Exception], reason: str
) -> None:
    with pytest.raises(error, match=reason) as raised:
        parser.parse(frame, 0)
    assert raised.value.exchange == "kraken"  # type: ignore[attr-defined]
    assert raised.value.frame == frame  # type: ignore[attr-defined]


def test_the_native_trade_path_gives_what_the_parser_and_encoder_give_on_every_recorded_trade_frame(
    parser: KrakenParser,
) -> None:
    trade_fast = parser.trade_fast_path()
    assert trade_fast is not None
    frames, trades = 0, 0
    for record in received_frames(TRADE):
        if not record.frame.endswith(b'"]') or b'"trade"' not in record.frame[-40:]:
            continue
        events = parser.parse(record.frame, record.receive_ts_ns)
        assert trade_fast(record.frame, record.receive_ts_ns) == (events[0].key, [encode(event) for event in events])
        frames, trades = frames + 1, trades + len(events)
    assert frames >= 8 and trades > frames  # frames of several trades among them


def test_the_native_top_of_book_path_gives_what_the_parser_and_encoder_give_on_every_recorded_ticker(
    parser: KrakenParser,
) -> None:
    top_of_book = parser.top_of_book_fast_path()
    assert top_of_book is not None
    taken = 0
    for record in received_frames(TICKER):
        if not record.frame.endswith(b'"]') or b'"ticker"' not in record.frame[-40:]:
            continue
        (event,) = parser.parse(record.frame, record.receive_ts_ns)
        assert top_of_book(record.frame, record.receive_ts_ns) == (event.key, encode(event))
        taken += 1
    assert taken >= 18


@pytest.mark.parametrize(
    ("frame", "path"),
    [
        (b'[0,[["5541.20000","0.15850568","1534614057.321597","x","l",""]],"trade","XBT/USD"]', "trade"),
        (b'[0,[["5541.2e3","0.15850568","1534614057.321597","b","l",""]],"trade","XBT/USD"]', "trade"),
        (b'[0,[["5541.20000","0.15850568","-1534614057.321597","b","l",""]],"trade","XBT/USD"]', "trade"),
        (b'[0,[],"trade","XBT/USD"]', "trade"),
        (b'[340,{"a":["5525.40000",1.5,"1.000"],"b":["5525.10000",1,"1.000"]},"ticker","XBT/USD"]', "top"),
        (b'[340,{"a":["5525.40000",1,"1.000"]},"ticker","XBT/USD"]', "top"),
    ],
)
def test_the_native_trade_and_top_of_book_paths_leave_bad_frames_to_the_parser(
    parser: KrakenParser, frame: bytes, path: str
) -> None:
    fast = parser.trade_fast_path() if path == "trade" else parser.top_of_book_fast_path()
    assert fast is not None and fast(frame, 5) is None
    with pytest.raises(FrameError) as raised:
        parser.parse_frame(frame, 5)
    assert raised.value.reason and raised.value.frame == frame
