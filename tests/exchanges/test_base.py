"""The adapter errors carry what a dead letter needs: exchange, reason, raw bytes."""

from __future__ import annotations

from platform_streams.exchanges.base import (
    ExchangeErrorFrame,
    FrameError,
    MalformedFrame,
    ParsedFrame,
    UnknownChannel,
    UnknownInstrument,
)


def test_frame_errors_carry_exchange_reason_and_frame() -> None:
    error = MalformedFrame("okx", "Expected `str`, got `int`", b'{"px":1}')
    assert (error.exchange, error.reason, error.frame) == ("okx", "Expected `str`, got `int`", b'{"px":1}')
    assert str(error) == "okx: Expected `str`, got `int` (frame starts '{\"px\":1}')"
    assert str(UnknownChannel("kraken", "channel 'x'")) == "kraken: channel 'x'"
    assert all(issubclass(kind, FrameError) for kind in (MalformedFrame, UnknownChannel, UnknownInstrument, ExchangeErrorFrame))


def test_parsed_frame_defaults() -> None:
    assert ParsedFrame([]) == ParsedFrame([], None, "")
