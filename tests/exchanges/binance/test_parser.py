"""Binance frames → canonical events, field by field on real frames, and every captured frame parses."""

from __future__ import annotations

import collections

import msgspec
import pytest

from platform_streams.exchanges.base import ExchangeErrorFrame, FrameError, MalformedFrame, UnknownChannel, UnknownInstrument
from platform_streams.exchanges.binance.parser import BinanceParser
from platform_streams.exchanges.instruments import InstrumentRegistry
from platform_streams.schemas import BestBidOffer, BookDelta, BookSnapshot, Candle, Side, Trade, decode, encode
from tests.exchanges.captures import first_frame, received_frames, rest_bodies

BTCUSDT_2024 = "binance/2024-08-08_hftbacktest_spot_BTCUSDT.jsonl.gz"
TEN_SYMBOLS = "binance/2021-04-05_cryptofeed_spot_10sym.jsonl"
BTC_ETH_DOT = "binance/2021-04-04_cryptofeed_spot_BTC-ETH-DOT.jsonl"
FOUR_SYMBOLS_WS = "binance/2021-10-12_cryptofeed_spot_4sym.ws.jsonl"
FOUR_SYMBOLS_REST = "binance/2021-10-12_cryptofeed_spot_4sym.rest.jsonl"


@pytest.fixture
def parser(binance_instruments: InstrumentRegistry) -> BinanceParser:
    return BinanceParser(binance_instruments)


def test_trade_frame(parser: BinanceParser) -> None:
    record = first_frame(BTCUSDT_2024, b"@trade")
    assert parser.parse(record.frame, record.receive_ts_ns) == [
        Trade(
            exchange="binance",
            symbol="BTC/USDT",
            exchange_ts_ns=1_723_161_255_342_000_000,  # T, the trade time
            receive_ts_ns=1_723_161_254_087_896_568,
            sequence=3_735_683_259,
            trade_id="3735683259",
            side=Side.SELL,  # m: the buyer is the maker, so the taker sold
            price=6_183_763_000_000,  # 61837.63000000
            size=2_000_000,  # 0.02000000
            price_scale=8,
            size_scale=8,
        )
    ]


def test_raw_stream_trade_frame_parses_like_the_combined_one(parser: BinanceParser) -> None:
    record = first_frame(BTCUSDT_2024, b"@trade")
    raw = msgspec.json.encode(msgspec.json.decode(record.frame)["data"])
    assert raw.startswith(b'{"e":"trade"')
    assert parser.parse(raw, 7) == BinanceParser().parse(record.frame, 7)


def test_depth_diff_frame(parser: BinanceParser) -> None:
    record = first_frame(BTCUSDT_2024, b"@depth@100ms")
    (delta,) = parser.parse(record.frame, record.receive_ts_ns)
    assert isinstance(delta, BookDelta)
    assert (delta.exchange, delta.symbol, delta.exchange_ts_ns, delta.receive_ts_ns) == (
        "binance",
        "BTC/USDT",
        1_723_161_255_208_000_000,
        1_723_161_253_937_085_768,
    )
    assert (delta.first_sequence, delta.sequence, delta.prev_sequence) == (50_093_239_189, 50_093_239_202, 0)
    assert delta.bids == [(6_173_763_000_000, 0), (6_173_017_000_000, 0), (5_685_458_000_000, 0)]
    assert delta.asks[:2] == [(6_183_764_000_000, 154_698_000), (6_183_985_000_000, 0)]
    assert delta.asks[-1] == (6_193_764_000_000, 2_000_000)
    assert len(delta.asks) == 9
    assert (delta.price_scale, delta.size_scale) == (8, 8)


def test_book_ticker_frame(parser: BinanceParser) -> None:
    record = first_frame(BTCUSDT_2024, b"@bookTicker")
    assert parser.parse(record.frame, record.receive_ts_ns) == [
        BestBidOffer(
            exchange="binance",
            symbol="BTC/USDT",
            exchange_ts_ns=1_723_161_254_087_891_268,  # spot bookTicker carries no time: the receive time
            receive_ts_ns=1_723_161_254_087_891_268,
            sequence=50_093_239_212,
            bid_price=6_183_763_000_000,
            bid_size=378_826_000,
            ask_price=6_183_764_000_000,
            ask_size=154_698_000,
            price_scale=8,
            size_scale=8,
        )
    ]


def test_agg_trade_frame(parser: BinanceParser) -> None:
    record = first_frame(TEN_SYMBOLS, b"@aggTrade")
    (trade,) = parser.parse(record.frame, record.receive_ts_ns)
    assert trade == Trade(
        "binance",
        "ZIL/USDT",
        1_617_647_603_483_000_000,
        1_617_647_605_816_691_000,
        18_938_405,
        "18938405",
        Side.BUY,
        21_448_000,
        206_290_000_000,
        8,
        8,
    )


def test_kline_frame(parser: BinanceParser) -> None:
    record = first_frame(FOUR_SYMBOLS_WS, b"@kline_1m")
    assert parser.parse(record.frame, record.receive_ts_ns) == [
        Candle(
            exchange="binance",
            symbol="NKN/USDT",
            exchange_ts_ns=1_633_998_523_963_000_000,
            receive_ts_ns=1_633_998_523_957_297_800,
            sequence=19_862_790,  # L, the bar's last trade id
            interval_s=60,
            open_ts_ns=1_633_998_480_000_000_000,
            open=35_270_000,
            high=35_280_000,
            low=35_220_000,
            close=35_280_000,
            volume=2_587_700_000_000,
            trade_count=30,
            closed=False,
            price_scale=8,
            size_scale=8,
        )
    ]


def test_rest_depth_snapshot(parser: BinanceParser) -> None:
    body = rest_bodies(FOUR_SYMBOLS_REST)[0]
    snapshot = parser.parse_depth_snapshot(body.frame, "NKNUSDT", body.receive_ts_ns)
    assert isinstance(snapshot, BookSnapshot)
    assert (snapshot.symbol, snapshot.sequence, snapshot.exchange_ts_ns) == ("NKN/USDT", 499_869_752, 1_633_998_512_320_639_000)
    assert snapshot.bids[0] == (35_210_000, 67_200_000_000)
    assert snapshot.asks[-1] == (55_060_000, 1_441_800_000_000)


def test_every_captured_frame_parses_and_encodes() -> None:
    """No frame of a supported channel would be dead-lettered; counts are the INDEX.md counts."""
    expected = {
        BTCUSDT_2024: {"Trade": 19_904, "BookDelta": 6_495, "BestBidOffer": 73_174},
        TEN_SYMBOLS: {"BookDelta": 4_709, "BestBidOffer": 5_408, "Trade": 1_240},
        BTC_ETH_DOT: {"BookDelta": 2_688, "Trade": 1_910, "Candle": 118},
        FOUR_SYMBOLS_WS: {"BookDelta": 177, "BestBidOffer": 84, "Trade": 2, "Candle": 2},
    }
    for capture, counts in expected.items():
        parser = BinanceParser()  # the 2021 captures predate the exchangeInfo's tick sizes: parse at the text's scale
        seen: collections.Counter[str] = collections.Counter()
        for record in received_frames(capture):
            for event in parser.parse(record.frame, record.receive_ts_ns):
                seen[type(event).__name__] += 1
                assert event.price_scale == 8 and event.size_scale == 8
        assert dict(seen) == counts, capture
    record = first_frame(BTCUSDT_2024, b"@trade")
    (trade,) = BinanceParser().parse(record.frame, record.receive_ts_ns)
    assert decode(encode(trade)) == trade


def test_trade_ids_are_consecutive_over_the_2024_capture(parser: BinanceParser) -> None:
    ids = [
        event.sequence
        for record in received_frames(BTCUSDT_2024)
        for event in parser.parse(record.frame, 0)
        if isinstance(event, Trade)
    ]
    assert len(ids) == 19_904
    assert ids == list(range(ids[0], ids[0] + len(ids)))


def test_metadata_scales_are_applied_and_refuse_to_round(binance_instruments: InstrumentRegistry) -> None:
    dot_2021 = first_frame(BTC_ETH_DOT, b"dotusdt@depth")
    with pytest.raises(MalformedFrame, match="more than 8 decimals|has more than"):
        BinanceParser(binance_instruments).parse(dot_2021.frame.replace(b'"43.50830000"', b'"43.508300001"'), 0)
    assert BinanceParser(binance_instruments).parse(dot_2021.frame, 0)[0].bids[0] == (4_350_830_000, 700_000_000)


def test_subscription_reply_is_a_control_frame(parser: BinanceParser) -> None:
    assert parser.parse(b'{"result":null,"id":1}', 0) == []
    assert parser.parse_frame(b'{"result":null,"id":1}', 0).control == "reply"


@pytest.mark.parametrize(
    ("frame", "error", "reason"),
    [
        (b'{"stream":"btcusdt@trade","data":{"e":"trade","E":1723161255343,"s":"BTCU', MalformedFrame, "truncated"),
        (b'{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":61837.63,"q":"0.1","T":1,"m":true}', MalformedFrame, "Expected `str`"),
        (b'{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"-1.00","q":"0.1","T":1,"m":true}', MalformedFrame, "not plain decimal"),
        (b'{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"1e5","q":"0.1","T":1,"m":true}', MalformedFrame, "not plain decimal"),
        (b'{"stream":"btcusdt@ticker","data":{"e":"24hrTicker"}}', UnknownChannel, "btcusdt@ticker"),
        (b'{"e":"24hrTicker","E":1,"s":"BTCUSDT"}', UnknownChannel, "24hrTicker"),
        (
            b'{"stream":"btcusdt@kline_1M","data":{"e":"kline","E":1,"s":"BTCUSDT","k":{"t":0,"T":1,"s":"BTCUSDT","i":"1M","f":1,"L":2,"o":"1","c":"1","h":"1","l":"1","v":"1","n":1,"x":false}}}',
            UnknownChannel,
            "no fixed length",
        ),
        (b'{"lastUpdateId":1,"bids":[],"asks":[]}', UnknownChannel, "names no symbol"),
        (b'{"code":2,"msg":"Invalid request: unknown variable","id":1}', ExchangeErrorFrame, "unknown variable"),
        (b'{"e":"trade","E":1,"s":"FOOBAZ","t":1,"p":"1.00","q":"0.1","T":1,"m":true}', UnknownInstrument, "FOOBAZ"),
        (b"[1,2,3]", MalformedFrame, "Expected `object`"),
        (b"", MalformedFrame, "truncated"),
        (
            b'{"stream":"btcusdt@bookTicker","data":{"u":1,"s":"BTCUSDT","b":"1.0","B":"1.0","a":"x","A":"1.0"}}',
            MalformedFrame,
            "not plain decimal",
        ),
        (b'{"stream":"btcusdt@bookTicker","data":{"u":1,"s":"BTCUSDT","b":"1.0"}}', MalformedFrame, "missing required field"),
    ],
)
def test_bad_frames_raise_a_specific_error_with_a_reason(frame: bytes, error: type[Exception], reason: str) -> None:
    with pytest.raises(error, match=reason) as raised:
        BinanceParser().parse(frame, 0)
    assert raised.value.exchange == "binance"  # type: ignore[attr-defined]
    assert raised.value.reason  # type: ignore[attr-defined]
    assert raised.value.frame == frame  # type: ignore[attr-defined]


def test_partial_depth_and_other_frame_shapes(parser: BinanceParser) -> None:
    partial = b'{"stream":"btcusdt@depth5@100ms","data":{"lastUpdateId":160,"bids":[["0.01000000","1.00000000"]],"asks":[["0.02000000","2.00000000"]]}}'
    assert parser.parse(partial, 3) == [
        BookSnapshot("binance", "BTC/USDT", 3, 3, 160, [(1_000_000, 100_000_000)], [(2_000_000, 200_000_000)], 8, 8)
    ]
    record = first_frame(BTCUSDT_2024, b"@bookTicker")
    combined = parser.parse(record.frame, 5)
    data = msgspec.json.decode(record.frame)["data"]
    assert parser.parse(msgspec.json.encode(data), 5) == combined  # raw stream, starts with {"u":
    reordered = msgspec.json.encode({"data": data, "stream": "btcusdt@bookTicker"})
    assert parser.parse(reordered, 5) == combined  # not the usual key order: the slow path
    # a stream named like bookTicker that carries another event is parsed as what it carries
    depth = first_frame(BTCUSDT_2024, b"@depth")
    renamed = depth.frame.replace(b"@depth@100ms", b"@bookTicker", 1)
    assert renamed != depth.frame and parser.parse_frame(renamed, 5).events == parser.parse(depth.frame, 5)


def test_parse_frame_maps_a_trade_the_fast_path_was_not_asked_for_as_the_fast_path_does(parser: BinanceParser) -> None:
    """The normaliser tries the native trade path first and gives parse_frame the rest; a caller that
    skips it still gets the same trade (respelled and mapped by the same native code)."""
    for capture, channel in ((BTCUSDT_2024, b"@trade"), (TEN_SYMBOLS, b"@aggTrade")):
        record = first_frame(capture, channel)
        fast = parser.parse_trade_fast(record.frame, 7)
        assert fast is not None
        assert [encode(event) for event in parser.parse_frame(record.frame, 7).events] == [fast[1]]


@pytest.mark.parametrize("capture", [BTCUSDT_2024, TEN_SYMBOLS])
def test_the_native_top_of_book_path_gives_what_the_parser_and_encoder_give_on_every_recorded_book_ticker(
    parser: BinanceParser, capture: str
) -> None:
    top_of_book = parser.top_of_book_fast_path()
    assert top_of_book is not None
    taken = 0
    for record in received_frames(capture):
        if b"@bookTicker" not in record.frame[:64]:
            continue
        fast = top_of_book(record.frame, record.receive_ts_ns)
        (event,) = parser.parse(record.frame, record.receive_ts_ns)
        assert fast == (event.key, encode(event))
        taken += 1
    assert taken > 1_000


@pytest.mark.parametrize(
    "frame",
    [
        b'{"stream":"btcusdt@bookTicker","data":{"u":1,"s":"BTCUSDT","b":"1e5","B":"1.0","a":"2.0","A":"1.0"}}',
        b'{"stream":"btcusdt@bookTicker","data":{"u":1,"s":"BTCUSDT","b":"1.0"}}',
        b'{"stream":"btcusdt@bookTicker","data":{"u":1,"s":"FOOBAZ","b":"1.0","B":"1.0","a":"2.0","A":"1.0"}}',
        b'{"stream":"btcusdt@bookTicker","data":{"u":1,"s":"BTC\\u0055SDT","b":"1.0","B":"1.0","a":"2.0","A":"1.0"}}',
        b'{"u":1,"s":"BTCUSDT","b":"1.0","B":"1.0","a":"2.0","A":"1.0"}',
    ],
)
def test_the_native_top_of_book_path_leaves_what_it_cannot_map_to_the_parser(parser: BinanceParser, frame: bytes) -> None:
    top_of_book = parser.top_of_book_fast_path()
    assert top_of_book is not None and top_of_book(frame, 5) is None
    try:
        parser.parse_frame(frame, 5)  # the parser reads it (raw streams, escapes) or reports what is wrong
    except FrameError as error:
        assert error.reason and error.frame == frame
