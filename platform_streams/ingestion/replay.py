"""Replay an archive of raw frames straight into ``md.raw``, at recorded speed or faster.

Frames keep their exchange, sequence, receive time and payload, so normalisers
produce the same canonical events (same event ids) as they did live; connection
ids get a prefix so a replay never interleaves with a live connection's sequence.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator

from platform_streams.schemas.raw_frames import RawFrame


def paced(
    frames: Iterable[RawFrame],
    speed: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[RawFrame]:
    """Yield frames spaced as they were received, ``speed`` times faster (0: as fast as possible)."""
    first_ns: int | None = None
    started = clock()
    for frame in frames:
        if speed > 0:
            if first_ns is None:
                first_ns = frame.receive_ts_ns
            due = (frame.receive_ts_ns - first_ns) / 1e9 / speed
            ahead = due - (clock() - started)
            if ahead > 0.001:
                sleep(ahead)
        yield frame


def relabelled(frames: Iterable[RawFrame], prefix: str) -> Iterator[RawFrame]:
    """The same frames on connection ids ``prefix + original``."""
    for frame in frames:
        yield RawFrame(
            frame.exchange,
            prefix + frame.connection_id,
            frame.sequence,
            frame.receive_ts_ns,
            frame.kind,
            frame.payload,
            frame.path,
        )
