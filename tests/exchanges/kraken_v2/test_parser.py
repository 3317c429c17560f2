"""Kraken v2 frames → canonical events: field by field on real book frames and on Kraken's documented
trade and ticker examples; numbers as their exact text; every captured frame parses."""

from __future__ import annotations

import collections

import pytest

from platform_streams.books.sync import BookChecksum
from platform_streams.exchanges.base import (
    BookSubscription,
    ExchangeErrorFrame,
    MalformedFrame,
    UnknownChannel,
    UnknownInstrument,
)
from platform_streams.exchanges.instruments import InstrumentRegistry
from platform_streams.exchanges.kraken_v2.parser import KrakenV2Parser
from platform_streams.schemas import BestBidOffer, BookDelta, BookSnapshot, Side, Trade
from tests.exchanges.captures import received_frames
from tests.exchanges.kraken_v2.conftest import BTC_10_RESUBSCRIBED, BTC_25, ETH_25

# Kraken's documented examples (docs.kraken.com, WebSocket v2 trade and ticker), as they are sent
TRADE_UPDATE = (
    b'{"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"sell","price":63388.7,"qty":0.00005100,'
    b'"ord_type":"market","trade_id":4665906,"timestamp":"2023-09-25T07:49:37.708706Z"},{"symbol":"BTC/USD","side":"buy",'
    b'"price":63389.0,"qty":1.25,"ord_type":"limit","trade_id":4665907,"timestamp":"2023-09-25T07:49:37.708706Z"}]}'
)
TICKER_SNAPSHOT = (
    b'{"channel":"ticker","type":"snapshot","data":[{"symbol":"ETH/USD","bid":1877.29,"bid_qty":2.41130000,"ask":1877.30,'
    b'"ask_qty":1361.44813783,"last":1877.30,"volume":997038.98383185,"vwap":1880.48,"low":1861.00,"high":1890.15,'
    b'"change":-0.17,"change_pct":-0.01,"timestamp":"2023-09-25T09:04:31.742648Z"}]}'
)


@pytest.fixture
def parser(krakenv2_instruments: InstrumentRegistry) -> KrakenV2Parser:
    return KrakenV2Parser(krakenv2_instruments, require_metadata=True)


def test_book_snapshot_frame(parser: KrakenV2Parser) -> None:
    record = received_frames(BTC_25)[2]
    parsed = parser.parse_frame(record.frame, record.receive_ts_ns)
    (snapshot,) = parsed.events
    assert isinstance(snapshot, BookSnapshot)
    assert (snapshot.exchange, snapshot.symbol, snapshot.exchange_ts_ns, snapshot.receive_ts_ns, snapshot.sequence) == (
        "krakenv2",
        "BTC/USD",
        1_785_641_751_302_928_000,  # the message's timestamp
        1_785_641_750_862_682_400,
        1_785_641_750_862_682_400,  # no sequence on v2 books: the receive time
    )
    assert (snapshot.price_scale, snapshot.size_scale) == (1, 8)
    assert snapshot.bids[:2] == [(633_887, 25_761_908), (633_881, 78_879_110)]  # 63388.7 0.25761908, 63388.1 0.78879110
    assert snapshot.bids[7] == (633_859, 5_100)  # 63385.9 0.00005100: a float would have read 5.1e-05
    assert snapshot.asks[0] == (633_888, 34_887_114)
    assert (len(snapshot.bids), len(snapshot.asks)) == (25, 25)
    assert parsed.checksum == BookChecksum(3_726_153_463, 1, 8)  # v2 checksums snapshots too


def test_book_update_frame(parser: KrakenV2Parser) -> None:
    record = received_frames(BTC_25)[3]
    parsed = parser.parse_frame(record.frame, record.receive_ts_ns)
    assert parsed.events == [
        BookDelta(
            exchange="krakenv2",
            symbol="BTC/USD",
            exchange_ts_ns=1_785_641_751_660_084_000,
            receive_ts_ns=1_785_641_751_209_947_200,
            sequence=1_785_641_751_209_947_200,
            first_sequence=1_785_641_751_209_947_200,
            prev_sequence=0,
            bids=[(633_810, 0), (633_764, 5_100)],  # 63381.0 removed, 63376.4 0.00005100
            asks=[],
            price_scale=1,
            size_scale=8,
        )
    ]
    assert parsed.checksum == BookChecksum(3_726_153_463, 1, 8)
    assert parsed.subscriptions == ()


def test_subscribe_acknowledgement_states_the_book_depth(parser: KrakenV2Parser) -> None:
    ack = received_frames(BTC_25)[1]
    parsed = parser.parse_frame(ack.frame, ack.receive_ts_ns)
    assert (parsed.events, parsed.control, parsed.subscriptions) == ([], "subscribed", (BookSubscription("BTC/USD", 25),))
    controls = collections.Counter(
        parser.parse_frame(r.frame, r.receive_ts_ns).control for r in received_frames(BTC_10_RESUBSCRIBED)
    )
    assert (controls["subscribed"], controls["unsubscribed"], controls["heartbeat"], controls["status"]) == (8, 7, 60, 1)
    trade_ack = (
        b'{"method":"subscribe","result":{"channel":"trade","snapshot":false,"symbol":"BTC/USD"},"success":true,"req_id":3}'
    )
    assert parser.parse_frame(trade_ack, 1).subscriptions == ()
    assert parser.parse_frame(b'{"method":"pong","req_id":9,"time_in":"x","time_out":"y"}', 1).control == "pong"


def test_trades_from_kraken_documented_message(parser: KrakenV2Parser) -> None:
    sell, buy = parser.parse(TRADE_UPDATE, 1_700_000_000_000_000_000)
    assert sell == Trade(
        exchange="krakenv2",
        symbol="BTC/USD",
        exchange_ts_ns=1_695_628_177_708_706_000,
        receive_ts_ns=1_700_000_000_000_000_000,
        sequence=4_665_906,
        trade_id="4665906",
        side=Side.SELL,  # the taker's side
        price=633_887,
        size=5_100,
        price_scale=1,
        size_scale=8,
    )
    assert (buy.side, buy.price, buy.size, buy.sequence) == (Side.BUY, 633_890, 125_000_000, 4_665_907)


def test_ticker_is_top_of_book(parser: KrakenV2Parser) -> None:
    (bbo,) = parser.parse(TICKER_SNAPSHOT, 1_700_000_000_000_000_000)
    assert bbo == BestBidOffer(
        exchange="krakenv2",
        symbol="ETH/USD",
        exchange_ts_ns=1_695_632_671_742_648_000,
        receive_ts_ns=1_700_000_000_000_000_000,
        sequence=1_700_000_000_000_000_000,
        bid_price=187_729,
        bid_size=241_130_000,
        ask_price=187_730,
        ask_size=136_144_813_783,
        price_scale=2,
        size_scale=8,
    )


@pytest.mark.parametrize("capture", [BTC_25, ETH_25, BTC_10_RESUBSCRIBED])
@pytest.mark.parametrize("with_metadata", [True, False])
def test_every_captured_frame_parses(capture: str, with_metadata: bool, krakenv2_instruments: InstrumentRegistry) -> None:
    parser = KrakenV2Parser(krakenv2_instruments if with_metadata else None)
    kinds = collections.Counter(type(event).__name__ for r in received_frames(capture) for event in parser.parse(r.frame, 1))
    expected = {BTC_25: (1, 2_051), ETH_25: (1, 1_128), BTC_10_RESUBSCRIBED: (5, 296)}[capture]
    assert (kinds["BookSnapshot"], kinds["BookDelta"]) == expected


@pytest.mark.parametrize(
    ("frame", "error", "reason"),
    [
        (b'{"channel":"book","type":"update","data":[', MalformedFrame, ""),
        (b'{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":6.3e4,"qty":1.0}],"checksum":1}]}',
         MalformedFrame, "not plain decimal text"),
        (b'{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":"x","qty":true}],"checksum":1}]}',
         MalformedFrame, ""),
        (b'{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[],"asks":[]}]}', MalformedFrame, "checksum"),
        (b'{"channel":"book","type":"update","data":[]}', MalformedFrame, "0 entries"),
        (b'{"channel":"book","type":"partial","data":[{"symbol":"BTC/USD","checksum":1}]}', MalformedFrame, "partial"),
        (b'{"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"up","price":1.0,"qty":1.0,"trade_id":1,'
         b'"timestamp":"2023-09-25T07:49:37Z"}]}', MalformedFrame, "neither buy nor sell"),
        (b'{"channel":"level3","type":"update","data":[]}', UnknownChannel, "level3"),
        (b'{"method":"subscribe","success":false,"error":"Currency pair not supported","symbol":"XYZ/USD","req_id":2}',
         ExchangeErrorFrame, "XYZ/USD refused: Currency pair not supported"),
        (b'{"method":"subscribe","result":{"channel":"book","depth":20,"symbol":"BTC/USD"},"success":true}', MalformedFrame,
         "depth 20"),
        (b'{"method":"subscribe","result":{"channel":"book","depth":10,"symbol":"NOPE/USD"},"success":true}',
         UnknownInstrument, "NOPE/USD"),
        (b'{"method":"amend_order","success":true}', UnknownChannel, "amend_order"),
        (b'[1,2,3]', MalformedFrame, ""),
    ],
)  # fmt: skip
def test_bad_frames_raise_specific_errors(parser: KrakenV2Parser, frame: bytes, error: type, reason: str) -> None:
    with pytest.raises(error, match=reason or None) as raised:
        parser.parse_frame(frame, 1)
    assert raised.value.exchange == "krakenv2" and raised.value.frame == frame


def test_venue_symbol_is_the_v2_name(parser: KrakenV2Parser) -> None:
    assert parser.venue_symbol("BTC/USD") == "BTC/USD"
    record = received_frames(ETH_25)[2]
    without = KrakenV2Parser(None)
    without.parse(record.frame, 1)  # without metadata: the name it parsed
    assert without.venue_symbol("ETH/USD") == "ETH/USD"
    with pytest.raises(UnknownInstrument):
        without.venue_symbol("BTC/USD")
