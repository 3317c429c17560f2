"""Reading the real exchange captures in ``tests/data/exchanges/`` (format in its README.md).

Frames are returned as the exact bytes the exchange sent, receive times as integer
nanoseconds taken from the recorder's own text (crossbook files: the header's wall-clock start
plus the monotonic time since the first frame); files are read once per test session.
"""

from __future__ import annotations

import functools
import gzip
from pathlib import Path
from typing import NamedTuple

import msgspec

from platform_streams.exchanges.timestamps import seconds_text_to_ns

DATA_DIR = Path(__file__).resolve().parents[1] / "data" / "exchanges"


class CaptureRecord(NamedTuple):
    """One line of a capture: direction (``in``, ``out``, ``rest``), REST URL, receive time, exact frame bytes."""

    direction: str
    url: str
    receive_ts_ns: int
    frame: bytes


class _RecordHead(msgspec.Struct):
    dir: str
    url: str = ""
    ts: msgspec.Raw = msgspec.Raw()
    ts_ns: int = 0
    ts_mono_ns: int = 0
    cbcap: str = ""


_head_decoder = msgspec.json.Decoder(_RecordHead)


@functools.cache
def read_capture(relative_path: str) -> tuple[CaptureRecord, ...]:
    """Every record with a frame, in file order."""
    path = DATA_DIR / relative_path
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    records = []
    wall_start_ns, mono_start_ns = 0, -1  # crossbook: the header's wall-clock start, and the first monotonic time
    for line in raw.splitlines():
        head = _head_decoder.decode(line)
        if head.cbcap:
            wall_start_ns = int(head.cbcap.rsplit(" ", 1)[1])
        start = line.find(b'"frame":')
        if start < 0:
            continue
        if head.ts_mono_ns:
            mono_start_ns = head.ts_mono_ns if mono_start_ns < 0 else mono_start_ns
            receive_ts_ns = wall_start_ns + head.ts_mono_ns - mono_start_ns
        else:
            receive_ts_ns = head.ts_ns or seconds_text_to_ns(bytes(head.ts).decode())
        records.append(CaptureRecord(head.dir, head.url, receive_ts_ns, line[start + 8 : -1]))
    return tuple(records)


def received_frames(relative_path: str) -> list[CaptureRecord]:
    """The frames the exchange sent over the WebSocket."""
    return [record for record in read_capture(relative_path) if record.direction == "in"]


def rest_bodies(relative_path: str) -> list[CaptureRecord]:
    """The REST response bodies."""
    return [record for record in read_capture(relative_path) if record.direction == "rest"]


def first_frame(relative_path: str, marker: bytes) -> CaptureRecord:
    """The first received frame containing ``marker``."""
    return next(record for record in received_frames(relative_path) if marker in record.frame)
