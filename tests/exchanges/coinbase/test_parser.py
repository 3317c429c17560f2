"""Coinbase ws-feed frames → canonical events, field by field on real frames, and every captured frame parses."""

from __future__ import annotations

import collections

import pytest

from platform_streams.exchanges.base import ExchangeErrorFrame, MalformedFrame, UnknownChannel, UnknownInstrument
from platform_streams.exchanges.coinbase.parser import CoinbaseParser
from platform_streams.exchanges.instruments import InstrumentRegistry
from platform_streams.schemas import BestBidOffer, BookDelta, BookSnapshot, Side, Trade
from tests.exchanges.captures import first_frame, received_frames
from tests.exchanges.coinbase.conftest import FEED


@pytest.fixture
def parser(coinbase_instruments: InstrumentRegistry) -> CoinbaseParser:
    return CoinbaseParser(coinbase_instruments)


def test_snapshot_frame(parser: CoinbaseParser) -> None:
    record = first_frame(FEED, b'"type":"snapshot"')
    (snapshot,) = parser.parse(record.frame, record.receive_ts_ns)
    assert isinstance(snapshot, BookSnapshot)
    assert (snapshot.exchange, snapshot.symbol, snapshot.sequence, snapshot.exchange_ts_ns) == (
        "coinbase",
        "BAND/GBP",
        1_618_677_817_077_736_000,
        1_618_677_817_077_736_000,
    )
    assert snapshot.asks[:4] == [(148_024, 1_277), (148_069, 1_249), (148_095, 1_273), (148_098, 12_310)]  # "123.10" at scale 2
    assert (snapshot.price_scale, snapshot.size_scale) == (4, 2)


def test_l2update_frame(parser: CoinbaseParser) -> None:
    record = first_frame(FEED, b'"type":"l2update"')
    assert parser.parse(record.frame, record.receive_ts_ns) == [
        BookDelta(
            exchange="coinbase",
            symbol="SKL/BTC",
            exchange_ts_ns=1_618_677_817_075_687_000,
            receive_ts_ns=1_618_677_817_118_783_000,
            sequence=1_618_677_817_118_783_000,  # level2 carries no sequence: the receive time
            first_sequence=1_618_677_817_118_783_000,
            prev_sequence=0,
            bids=[],
            asks=[(1_306, 6_605)],  # a "sell" change is an ask
            price_scale=8,
            size_scale=1,
        )
    ]


def test_match_frames_carry_the_takers_side(parser: CoinbaseParser) -> None:
    record = first_frame(FEED, b'"type":"match"')
    assert parser.parse(record.frame, record.receive_ts_ns) == [
        Trade(
            "coinbase",
            "SKL/BTC",
            1_618_677_817_089_723_000,
            1_618_677_817_129_516_100,
            280_232,
            "280232",
            Side.BUY,
            1_305,
            9_850,
            8,
            1,
        )
    ]  # maker side "sell": the taker bought
    last = first_frame(FEED, b'"type":"last_match"')
    (trade,) = parser.parse(last.frame, last.receive_ts_ns)
    assert isinstance(trade, Trade) and (trade.symbol, trade.sequence, trade.price, trade.size) == (
        "BAND/GBP",
        881_613,
        147_775,
        4,
    )


def test_ticker_frame(parser: CoinbaseParser) -> None:
    record = first_frame(FEED, b'"type":"ticker"')
    assert parser.parse(record.frame, record.receive_ts_ns) == [
        BestBidOffer(
            "coinbase",
            "BAND/GBP",
            1_618_677_810_244_075_000,
            1_618_677_817_079_694_000,
            333_938_798,
            147_550,
            0,
            148_060,
            0,
            4,
            2,
        )
    ]  # this 2021 feed sends no best_bid_size / best_ask_size


def test_every_captured_frame_parses(parser: CoinbaseParser) -> None:
    events: collections.Counter[str] = collections.Counter()
    controls: collections.Counter[str] = collections.Counter()
    for record in received_frames(FEED):
        parsed = parser.parse_frame(record.frame, record.receive_ts_ns)
        events.update(type(event).__name__ for event in parsed.events)
        if parsed.control:
            controls[parsed.control] += 1
    assert dict(events) == {"BookSnapshot": 10, "BookDelta": 9_719, "Trade": 97 + 10, "BestBidOffer": 107}
    assert dict(controls) == {"subscriptions": 3}
    assert (
        parser.parse_frame(
            b'{"type":"heartbeat","sequence":1,"last_trade_id":2,"product_id":"BTC-USD","time":"2021-04-17T16:43:37Z"}', 0
        ).control
        == "heartbeat"
    )


@pytest.mark.parametrize(
    ("frame", "error", "reason"),
    [
        (
            b'{"type":"l2update","product_id":"SKL-BTC","changes":[["sell","0.00001306","660.5"]],"time":"2021-04-17T16:4',
            MalformedFrame,
            "truncated",
        ),
        (
            b'{"type":"l2update","product_id":"SKL-BTC","changes":[["sell",0.00001306,"660.5"]],"time":"2021-04-17T16:43:37.075687Z"}',
            MalformedFrame,
            "Expected `str`",
        ),
        (
            b'{"type":"l2update","product_id":"SKL-BTC","changes":[["sell","0.000013061","660.5"]],"time":"2021-04-17T16:43:37.075687Z"}',
            MalformedFrame,
            "more than 8 decimals",
        ),
        (
            b'{"type":"l2update","product_id":"SKL-BTC","changes":[["bid","0.00001306","660.5"]],"time":"2021-04-17T16:43:37.075687Z"}',
            MalformedFrame,
            "side 'bid'",
        ),
        (b'{"type":"l2update","product_id":"SKL-BTC","changes":[],"time":"17 April 2021"}', MalformedFrame, "UTC ISO 8601"),
        (b'{"type":"received","product_id":"SKL-BTC"}', UnknownChannel, "'received'"),
        (
            b'{"type":"error","message":"Failed to subscribe","reason":"level2 requires authentication"}',
            ExchangeErrorFrame,
            "requires authentication",
        ),
        (
            b'{"type":"match","trade_id":1,"sequence":1,"side":"buy","size":"1","price":"1","product_id":"NOPE-USD","time":"2021-04-17T16:43:37Z"}',
            UnknownInstrument,
            "NOPE-USD",
        ),
        (b'{"product_id":"SKL-BTC"}', MalformedFrame, "no message type"),
    ],
)
def test_bad_frames_raise_a_specific_error_with_a_reason(
    parser: CoinbaseParser, frame: bytes, error: type[Exception], reason: str
) -> None:
    with pytest.raises(error, match=reason) as raised:
        parser.parse(frame, 0)
    assert raised.value.exchange == "coinbase"  # type: ignore[attr-defined]
    assert raised.value.frame == frame  # type: ignore[attr-defined]
