"""The md.raw record: a frame's provenance survives the trip through record headers."""

import pytest

from platform_streams.schemas.raw_frames import FrameKind, RawFrame, RawFrameError


def test_round_trip_through_record_headers() -> None:
    frame = RawFrame(
        "binance",
        "binance-3",
        42,
        1_700_000_000_000_000_001,
        FrameKind.REST,
        b'{"lastUpdateId":1}',
        "/api/v3/depth?symbol=BTCUSDT",
    )
    assert RawFrame.from_record(frame.payload, frame.headers()) == frame
    ccxt = RawFrame("bybit", "ccxt-bybit", 1, 2, FrameKind.WEBSOCKET, b"{}", format="ccxt")
    assert RawFrame.from_record(ccxt.payload, ccxt.headers()) == ccxt


def test_missing_headers_are_a_clear_error() -> None:
    with pytest.raises(RawFrameError, match="provenance headers"):
        RawFrame.from_record(b"{}", [("x-exchange", b"okx")])
    with pytest.raises(RawFrameError):
        RawFrame.from_record(b"{}", None)
