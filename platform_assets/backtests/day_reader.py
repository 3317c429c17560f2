"""The reader process of a stored backtest: one UTC day of events after another, a day ahead
(:func:`prefetched_events`).

``python -m platform_assets.backtests.day_reader`` reads a :class:`ReadRequest` (msgpack) on
stdin, then writes each day of :func:`~platform_assets.backtests.stored_market_data.stream_events`
to stdout as one message (kind byte, 8-byte length, msgpack list of events), then an end
message. The pipe holds little, so the reader waits for the caller to take a day before it
reads the one after: a day ahead, no more. An error is written as a pickled exception and
raised in the caller. The database URL travels on stdin, never on the command line.

Its own process and not :mod:`multiprocessing`: nothing of the caller's ``__main__`` is run
again (a script without ``if __name__ == "__main__"`` works), and nothing is forked from a
caller that runs threads (the Dagster run worker does).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pickle
import subprocess
import sys
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import asyncpg
import msgspec

from platform_assets.backtests.stored_market_data import stream_events
from platform_streams.schemas import BestBidOffer, Candle, Instrument, Trade

_DAY, _END, _FAILED = b"d", b"z", b"e"
_HEADER_BYTES = 9  # kind, then the payload's length as 8 bytes, big-endian
_REPOSITORY = Path(__file__).resolve().parents[2]

Day = list[Trade | BestBidOffer | Candle]
_day_encoder = msgspec.msgpack.Encoder()
_day_decoder = msgspec.msgpack.Decoder(Day)


class ReadRequest(msgspec.Struct, frozen=True):
    """What to read: the instruments' events in [start, end) from ``candle_source``'s candles."""

    database_url: str
    instruments: list[Instrument]
    start: datetime
    end: datetime
    candle_source: str


class ReaderFailed(RuntimeError):
    """The reader process ended without saying why (killed, or it could not start)."""


def prefetched_events(
    database_url: str,
    reference: Mapping[str, Instrument],
    start: datetime,
    end: datetime,
    candle_source: str = "stream",
) -> Iterator[Day]:
    """:func:`~platform_assets.backtests.stored_market_data.stream_events` read by the reader
    process on its own connection, a day ahead of the caller: PostgreSQL selects the next day and
    the reader builds its events while the caller replays this one, on the other core (a thread
    would share the caller's interpreter lock, and building the events costs a fifth of a replay).
    A day crosses the pipe as one msgpack message, decoded here in one call. An error reading is
    raised to the caller (a :class:`~platform_assets.backtests.stored_market_data.StoredValueError`
    as itself); the caller stopping early stops the reader."""
    reader = _start(ReadRequest(database_url, list(reference.values()), start, end, candle_source))
    try:
        yield from _days(reader)
    finally:
        _stop(reader)


def _start(request: ReadRequest) -> subprocess.Popen[bytes]:
    """The reader process, started on ``request``."""
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_REPOSITORY), environment.get("PYTHONPATH", "")]))
    reader = subprocess.Popen(
        [sys.executable, "-m", "platform_assets.backtests.day_reader"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=environment,
    )  # fmt: skip
    assert reader.stdin is not None
    with contextlib.suppress(BrokenPipeError):  # it ended at once: _days() says how
        reader.stdin.write(msgspec.msgpack.encode(request))
        reader.stdin.close()
    return reader


def _days(reader: subprocess.Popen[bytes]) -> Iterator[Day]:
    """The days the reader writes, in order, until its end message; raises what it failed with."""
    assert reader.stdout is not None
    while True:
        kind, payload = _read_message(reader.stdout)
        if kind == _END:
            return
        if kind == _FAILED:
            raise pickle.loads(payload)
        if kind != _DAY:
            raise ReaderFailed(f"the backtest's reader process ended unfinished (exit code {reader.wait()})")
        yield _day_decoder.decode(payload)


def _stop(reader: subprocess.Popen[bytes]) -> None:
    """Stop the reader (whether it finished or not) and wait for it."""
    if reader.stdout is not None:
        reader.stdout.close()  # a reader still writing gets a broken pipe and ends
    try:
        reader.wait(timeout=5)
    except subprocess.TimeoutExpired:
        reader.kill()
        reader.wait()


def _read_message(stream: BinaryIO) -> tuple[bytes, bytes]:
    header = stream.read(_HEADER_BYTES)
    if len(header) < _HEADER_BYTES:
        return b"", b""  # the process ended mid-stream
    payload = stream.read(int.from_bytes(header[1:], "big"))
    return header[:1], payload


def _write_message(stream: BinaryIO, kind: bytes, payload: bytes) -> None:
    stream.write(kind + len(payload).to_bytes(_HEADER_BYTES - 1, "big"))
    stream.write(payload)
    stream.flush()


async def _read(request: ReadRequest, out: BinaryIO) -> None:
    connection = await asyncpg.connect(request.database_url)
    try:
        reference = {instrument.key: instrument for instrument in request.instruments}
        async for day in stream_events(connection, reference, request.start, request.end, request.candle_source):
            _write_message(out, _DAY, _day_encoder.encode(day))  # blocks while the caller replays the day before
    finally:
        await connection.close()


def main() -> None:
    out = sys.stdout.buffer
    try:
        request = msgspec.msgpack.decode(sys.stdin.buffer.read(), type=ReadRequest)
        asyncio.run(_read(request, out))
        _write_message(out, _END, b"")
    except BrokenPipeError:
        _quiet(out)  # the caller stopped reading
    except Exception as error:  # noqa: BLE001 - handed to the caller
        try:
            payload = pickle.dumps(error)
        except Exception:  # noqa: BLE001 - an error that does not pickle goes as its text
            payload = pickle.dumps(RuntimeError(f"{type(error).__name__}: {error}"))
        try:
            _write_message(out, _FAILED, payload)
        except BrokenPipeError:
            _quiet(out)


def _quiet(out: BinaryIO) -> None:
    """Nothing more to the closed pipe (the interpreter's own flush at exit would complain)."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())


if __name__ == "__main__":
    main()
