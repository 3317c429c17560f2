import pytest

from platform_streams.ingestion.raw_frames import FrameKind, RawFrame, RawFrameError


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
    output = frame.to_output()
    assert output.topic == "md.raw" and output.key == "binance-3" and output.value == frame.payload
    assert RawFrame.from_record(output.value, output.headers) == frame


def test_missing_headers_are_a_clear_error() -> None:
    with pytest.raises(RawFrameError, match="provenance headers"):
        RawFrame.from_record(b"{}", [("x-exchange", b"okx")])
    with pytest.raises(RawFrameError):
        RawFrame.from_record(b"{}", None)
