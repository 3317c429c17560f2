"""The native Binance trade path against the Python mapping it replaced (``reference_trades``).

Byte-identical keys and encoded events on every recorded trade and aggTrade frame (combined
and raw forms) and on generated frames, the same errors for malformed frames, and every other
frame left to the Python parser. "Ours" is what the normaliser does: the fast path, and for a
frame it does not take, the parser's events encoded.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Callable
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from platform_streams.exchanges.base import FrameError, MalformedFrame, UnknownInstrument
from platform_streams.exchanges.binance.parser import BinanceParser
from platform_streams.exchanges.instruments import Instrument, InstrumentRegistry
from platform_streams.normalisation.normaliser import Normaliser
from platform_streams.schemas import BookDelta, encode
from platform_streams.schemas.raw_frames import FrameKind, RawFrame
from platform_streams.topics import TRADE_TOPIC
from tests.exchanges.binance.reference_trades import ReferenceTradeParser
from tests.exchanges.captures import first_frame, received_frames

TRADE_FRAMES = {
    "binance/2024-08-08_hftbacktest_spot_BTCUSDT.jsonl.gz": 19_904,
    "binance/2021-04-05_cryptofeed_spot_10sym.jsonl": 1_240,
    "binance/2021-04-04_cryptofeed_spot_BTC-ETH-DOT.jsonl": 1_910,
    "binance/2021-10-12_cryptofeed_spot_4sym.ws.jsonl": 2,
}
"""Every WebSocket capture of tests/data/exchanges/binance, with its number of trade and aggTrade frames."""

Outcome = tuple[Any, ...]
OUTSIDE_64_BITS = ("integer outside 64 bits",)


def outcome(call: Callable[[], tuple[str, bytes] | None]) -> Outcome:
    """``("ok", result)``, or the error's type and reason (``OUTSIDE_64_BITS`` for :func:`encode`'s refusal)."""
    try:
        return ("ok", call())
    except FrameError as exc:
        return (type(exc), exc.reason)
    except ValueError as exc:
        assert "outside 64 bits" in str(exc)
        return OUTSIDE_64_BITS


def normaliser_path(parser: BinanceParser, frame: bytes, receive_ts_ns: int) -> tuple[str, bytes]:
    """What the normaliser produces for a trade frame: the fast path, else the parser's event encoded."""
    fast = parser.parse_trade_fast(frame, receive_ts_ns)
    if fast is not None:
        return fast
    (event,) = parser.parse(frame, receive_ts_ns)
    return event.key, encode(event)


def parse_path(parser: BinanceParser, frame: bytes, receive_ts_ns: int) -> tuple[str, bytes]:
    """What :meth:`BinanceParser.parse` gives for a trade frame, encoded."""
    (event,) = parser.parse(frame, receive_ts_ns)
    return event.key, encode(event)


def assert_same_outcome(ours: Outcome, reference: Outcome) -> None:
    """Equal results, or the same error type. Where the Python mapping built an event that
    :func:`encode` then refused (an id or time past 64 bits), the native path reports the frame
    as malformed instead, so it is dead-lettered rather than failing the stage."""
    if reference == OUTSIDE_64_BITS:
        assert ours[0] is MalformedFrame, ours
    elif reference[0] == "ok":
        assert ours == reference
    else:
        assert ours[0] is reference[0], (ours, reference)


def event_type(frame: bytes) -> str | None:
    body = msgspec.json.decode(frame)
    data = body.get("data", body) if isinstance(body, dict) else None
    return data.get("e") if isinstance(data, dict) else None


def raw_form(frame: bytes) -> bytes:
    """The raw-stream (``/ws``) frame of a combined-stream frame: its ``data``, keys in the same order."""
    return msgspec.json.encode(msgspec.json.decode(frame)["data"])


# -- recorded frames -------------------------------------------------------------------------


@pytest.mark.parametrize("with_metadata", [True, False], ids=["exchangeInfo scales", "scales from text"])
def test_every_recorded_trade_frame_gives_the_reference_key_and_bytes(
    with_metadata: bool, binance_instruments: InstrumentRegistry
) -> None:
    instruments = binance_instruments if with_metadata else None
    for capture, trade_frames in TRADE_FRAMES.items():
        parser, reference = BinanceParser(instruments), ReferenceTradeParser(instruments)
        compared = 0
        for record in received_frames(capture):
            if event_type(record.frame) not in ("trade", "aggTrade"):
                assert parser.parse_trade_fast(record.frame, record.receive_ts_ns) is None
                continue
            for frame in (record.frame, raw_form(record.frame)):
                native = parser.parse_trade_fast(frame, record.receive_ts_ns)
                assert native is not None
                assert native == reference.parse(frame, record.receive_ts_ns)
                assert parse_path(parser, frame, record.receive_ts_ns) == native
                compared += 1
        assert compared == 2 * trade_frames, capture


def test_the_normaliser_produces_the_reference_trades(binance_instruments: InstrumentRegistry) -> None:
    capture = "binance/2024-08-08_hftbacktest_spot_BTCUSDT.jsonl.gz"
    normaliser = Normaliser()
    normaliser.set_instruments("binance", binance_instruments)
    reference = ReferenceTradeParser(binance_instruments)
    trades = [record for record in received_frames(capture) if b"@trade" in record.frame]
    for sequence, record in enumerate(trades):
        raw = RawFrame("binance", "conn-1", sequence, record.receive_ts_ns, FrameKind.WEBSOCKET, record.frame)
        (output,) = normaliser.handle(raw)
        assert output.topic == TRADE_TOPIC
        assert (output.key, output.value) == reference.parse(record.frame, record.receive_ts_ns)
    assert len(trades) == TRADE_FRAMES[capture]


# -- generated frames ------------------------------------------------------------------------

SYMBOLS = ["BTCUSDT", "ETHBTC", "DOTUSDT", "NKNUSDT", "NEWCOINUSDT", 'QU"OTE\\USDT', "ÉTÉUSDT", "A" * 40 + "USDT", "FOOBAZ", ""]
"""With exchangeInfo metadata, without (split by quote asset), with JSON escapes, non-ASCII,
longer than a msgpack fixstr, and two that cannot be split (UnknownInstrument)."""

_digits = st.text("0123456789", max_size=14)
_binance_spelling = st.builds(lambda mantissa: f"{mantissa // 10**8}.{mantissa % 10**8:08d}", st.integers(0, 10**16))
_plain_decimal = st.builds(
    lambda head, tail, dot: f"{head}.{tail}" if dot else head, _digits, st.text("0123456789", max_size=12), st.booleans()
)
_not_plain_decimal = st.sampled_from(
    ["", ".", "-1.00", "1e5", "1.2.3", " 1", "1_000", "١٢", "+1", "nan", "0x1F", "1.0 ", "92233720368.54775808"]
)
decimal_texts = st.one_of(_binance_spelling, _plain_decimal, _not_plain_decimal)
integers = st.one_of(st.integers(0, 2**40), st.integers(-(2**63), 2**64 - 1), st.integers(-(2**80), 2**80))
trade_times = st.one_of(st.integers(1_500_000_000_000, 1_900_000_000_000), integers)
LAYOUTS = ("as Binance sends it", "keys shuffled", "spaced", "duplicate key")
ODD_SCALES = InstrumentRegistry(
    "binance",
    [
        Instrument("binance", "BTC/USDT", "BTCUSDT", "BTC", "USDT", price_scale=2, size_scale=5, tick_size=1, lot_size=1),
        Instrument("binance", "ETH/BTC", "ETHBTC", "ETH", "BTC", price_scale=0, size_scale=18, tick_size=1, lot_size=1),
        Instrument("binance", "NEW/COIN", "NEWCOINUSDT", "NEW", "COIN", price_scale=12, size_scale=3, tick_size=1, lot_size=1),
    ],
)
"""Metadata at scales other than Binance's 8, and a symbol named otherwise than its split would say."""


@st.composite
def trade_frames(draw: st.DrawFn) -> bytes:
    """A trade or aggTrade frame, raw or combined, in Binance's own layout or another one msgspec reads."""
    kind = draw(st.sampled_from(["trade", "aggTrade"]))
    symbol = draw(st.sampled_from(SYMBOLS))
    data: dict[str, Any] = {"e": kind, "E": draw(integers), "s": symbol}
    data["t" if kind == "trade" else "a"] = draw(integers)
    data |= {"p": draw(decimal_texts), "q": draw(decimal_texts)}
    if kind == "aggTrade":
        data |= {"f": draw(integers), "l": draw(integers)}
    data |= {"T": draw(trade_times), "m": draw(st.booleans()), "M": True}
    body: dict[str, Any] = {"stream": f"{symbol.lower()}@{kind}", "data": data} if draw(st.booleans()) else data
    layout = draw(st.sampled_from(LAYOUTS))
    if layout == "keys shuffled":
        data = {key: data[key] for key in draw(st.permutations(list(data)))}
        body = {"data": data, "stream": body["stream"]} if "stream" in body else data
    if layout == "spaced":
        return json.dumps(body, separators=(", ", ": "), ensure_ascii=False).encode()
    frame = msgspec.json.encode(body)
    if layout == "duplicate key":  # msgspec keeps the last value; the native path leaves such frames to it
        first_comma = frame.index(b",", frame.index(b'"e":'))
        frame = frame[: first_comma + 1] + b'"q":"0",' + frame[first_comma + 1 :]
    return frame


@settings(max_examples=400, deadline=None)
@given(
    frames=st.lists(trade_frames(), min_size=1, max_size=3),
    metadata=st.sampled_from(["exchangeInfo", "none", "odd scales"]),
    receive_ts_ns=st.integers(0, 2**63 - 1),
)
def test_generated_trade_frames_give_the_reference_key_and_bytes(
    frames: list[bytes], metadata: str, receive_ts_ns: int, binance_instruments: InstrumentRegistry
) -> None:
    """Several frames per parser: the first frame of a symbol without metadata fixes its scales."""
    instruments = {"exchangeInfo": binance_instruments, "none": None, "odd scales": ODD_SCALES}[metadata]
    parser, reference = BinanceParser(instruments), ReferenceTradeParser(instruments)
    for frame in frames:
        expected = outcome(lambda frame=frame: reference.parse(frame, receive_ts_ns))
        assert_same_outcome(outcome(lambda frame=frame: normaliser_path(parser, frame, receive_ts_ns)), expected)
        assert_same_outcome(outcome(lambda frame=frame: parse_path(parser, frame, receive_ts_ns)), expected)


# -- malformed and other frames --------------------------------------------------------------

TRADE = first_frame("binance/2024-08-08_hftbacktest_spot_BTCUSDT.jsonl.gz", b"@trade").frame
AGG_TRADE = first_frame("binance/2021-04-05_cryptofeed_spot_10sym.jsonl", b"@aggTrade").frame
LAST_MS_IN_64_BITS = (2**64 - 1) // 1_000_000

MALFORMED = {
    "truncated": TRADE[:-20],
    "price as a JSON number": TRADE.replace(b'"p":"61837.63000000"', b'"p":61837.63'),
    "negative price": TRADE.replace(b'"61837.63000000"', b'"-1.00"'),
    "price with an exponent": TRADE.replace(b'"61837.63000000"', b'"1e5"'),
    "price finer than the scale": TRADE.replace(b'"61837.63000000"', b'"61837.630000001"'),
    "price past a 64-bit mantissa": TRADE.replace(b'"61837.63000000"', b'"92233720368.54775808"'),
    "empty quantity": AGG_TRADE.replace(b'"q":"2062.90000000"', b'"q":""'),
    "trade id as a float": TRADE.replace(b'"t":3735683259', b'"t":3735683259.0'),
    "trade id past 64 bits": TRADE.replace(b'"t":3735683259', b'"t":18446744073709551616'),
    "trade time past 64-bit ns": TRADE.replace(b'"T":1723161255342', b'"T":%d' % (LAST_MS_IN_64_BITS + 1)),
    "no m": TRADE.replace(b',"m":true', b""),
    "event type of another stream": TRADE.replace(b'"e":"trade"', b'"e":"aggTrade"'),
    "unknown symbol": TRADE.replace(b'"s":"BTCUSDT"', b'"s":"FOOBAZ"'),
}


@pytest.mark.parametrize("form", ["combined", "raw"])
@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_trade_frames_raise_what_the_python_parser_raised(
    name: str, form: str, binance_instruments: InstrumentRegistry
) -> None:
    frame = MALFORMED[name]
    if form == "raw":
        frame = raw_form(TRADE)[:-20] if name == "truncated" else raw_form(frame)
    expected = outcome(lambda: ReferenceTradeParser(binance_instruments).parse(frame, 1))
    parser = BinanceParser(binance_instruments)
    with pytest.raises(FrameError) as raised:
        normaliser_path(parser, frame, 1)
    assert (raised.value.exchange, raised.value.frame) == ("binance", frame)
    assert_same_outcome((type(raised.value), raised.value.reason), expected)
    if name.startswith(("negative", "price with", "price finer", "price past", "empty")):
        assert raised.value.reason == expected[1]  # the decimal-text reasons read the same


def test_an_id_or_time_past_64_bits_is_malformed_rather_than_unencodable(binance_instruments: InstrumentRegistry) -> None:
    """The one intended difference: the Python mapping built such a trade and ``encode`` raised ValueError."""
    for name in ("trade id past 64 bits", "trade time past 64-bit ns"):
        assert outcome(lambda name=name: ReferenceTradeParser(binance_instruments).parse(MALFORMED[name], 1)) == OUTSIDE_64_BITS
        with pytest.raises(MalformedFrame, match="64-bit"):
            BinanceParser(binance_instruments).parse_trade_fast(MALFORMED[name], 1)
    last = TRADE.replace(b'"T":1723161255342', b'"T":%d' % LAST_MS_IN_64_BITS)
    assert normaliser_path(BinanceParser(), last, 1) == ReferenceTradeParser().parse(last, 1)


def test_scales_fixed_only_by_a_frame_that_has_the_text() -> None:
    """Without metadata, a frame with an empty price fixes no scales (and is malformed); the next one does."""
    new_coin = TRADE.replace(b'"s":"BTCUSDT"', b'"s":"NEWCOINUSDT"')
    empty_price = new_coin.replace(b'"61837.63000000"', b'""')
    coarse_price = new_coin.replace(b'"61837.63000000"', b'"61837.6"')
    parser, reference = BinanceParser(), ReferenceTradeParser()
    for frame in (empty_price, coarse_price, new_coin):
        ours = outcome(lambda frame=frame: normaliser_path(parser, frame, 1))
        assert_same_outcome(ours, outcome(lambda frame=frame: reference.parse(frame, 1)))
    with pytest.raises(MalformedFrame, match="61837.63000000 has more than 1 decimals"):
        parser.parse_trade_fast(new_coin, 1)


NOT_TRADES = [
    first_frame("binance/2024-08-08_hftbacktest_spot_BTCUSDT.jsonl.gz", b"@depth").frame,
    first_frame("binance/2024-08-08_hftbacktest_spot_BTCUSDT.jsonl.gz", b"@bookTicker").frame,
    raw_form(first_frame("binance/2024-08-08_hftbacktest_spot_BTCUSDT.jsonl.gz", b"@bookTicker").frame),
    first_frame("binance/2021-10-12_cryptofeed_spot_4sym.ws.jsonl", b"@kline_1m").frame,
    b'{"result":null,"id":1}',
    b'{"code":2,"msg":"Invalid request","id":1}',
    b'{"stream":"btcusdt@ticker","data":{"e":"24hrTicker"}}',
    b"[1,2,3]",
    b"",
]


@pytest.mark.parametrize("frame", NOT_TRADES)
def test_other_frames_fall_through_to_the_python_parser(frame: bytes) -> None:
    assert BinanceParser().parse_trade_fast(frame, 1) is None


def test_a_depth_event_under_a_trade_stream_name_is_still_a_depth_event() -> None:
    """The event type decides, as in the Python parser; the stream name only picks the likely shape."""
    depth = first_frame("binance/2024-08-08_hftbacktest_spot_BTCUSDT.jsonl.gz", b"@depth").frame
    renamed = depth.replace(b"btcusdt@depth@100ms", b"btcusdt@trade")
    parser = BinanceParser()
    assert parser.parse_trade_fast(renamed, 1) is None
    assert parser.parse(renamed, 1) == parser.parse(depth, 1)
    assert isinstance(parser.parse(renamed, 1)[0], BookDelta)


def test_an_unknown_symbol_names_the_frame() -> None:
    frame = MALFORMED["unknown symbol"]
    with pytest.raises(UnknownInstrument, match="FOOBAZ") as raised:
        BinanceParser().parse_trade_fast(frame, 1)
    assert raised.value.frame == frame


def test_a_parser_is_freed_without_the_cycle_collector() -> None:
    """The native object holds the symbol lookup, not the parser: no reference cycle keeps either alive."""
    parser = BinanceParser()
    assert parser.parse_trade_fast(TRADE, 1) is not None
    freed = weakref.ref(parser)
    del parser
    assert freed() is None
