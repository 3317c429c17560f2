"""The platform's raw archive: ``md.raw`` frames in zstd-compressed files per exchange and hour.

Layout: ``<root>/<exchange>/<YYYY-MM-DD>/<HH>.<writer>.raw.zst``, hours in UTC by
receive time; each writer (one per archiver replica) has its own files. A file is a
sequence of zstd frames, one per written batch, each holding length-prefixed
msgpack records ``[receive_ts_ns, connection_id, sequence, kind, path, payload, format]``.
A crash can leave a torn last frame: readers keep every complete record before it.
Duplicates (a batch re-archived after a crash) are dropped on read by
(connection id, sequence).
"""

from __future__ import annotations

import heapq
import os
import struct
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import msgspec
import zstandard

from platform_streams.schemas.raw_frames import FrameKind, RawFrame

_LENGTH = struct.Struct(">I")
_encoder = msgspec.msgpack.Encoder()
_record_decoder = msgspec.msgpack.Decoder(tuple[int, str, int, str, str, bytes, str])


class ArchiveError(ValueError):
    """An archive file that is not in this format."""


def hour_of(receive_ts_ns: int) -> datetime:
    return datetime.fromtimestamp(receive_ts_ns // 1_000_000_000, tz=UTC).replace(minute=0, second=0)


def archive_path(root: Path, exchange: str, hour: datetime, writer: str) -> Path:
    return root / exchange / hour.strftime("%Y-%m-%d") / f"{hour:%H}.{writer}.raw.zst"


class RawArchiveWriter:
    """Appends batches of frames to their hourly files; :meth:`write` returns once they are on disk."""

    def __init__(self, root: Path, writer: str, level: int = 3) -> None:
        if not writer or "/" in writer or "." in writer:
            raise ValueError(f"writer id {writer!r} must be non-empty without '/' or '.'")
        self.root = Path(root)
        self.writer = writer
        self._compressor = zstandard.ZstdCompressor(level=level)
        self._files: dict[Path, BinaryIO] = {}

    def write(self, frames: Iterable[RawFrame]) -> int:
        """Write ``frames`` (one zstd frame per file touched), fsync, return the count written."""
        chunks: dict[Path, list[bytes]] = {}
        count = 0
        for frame in frames:
            path = archive_path(self.root, frame.exchange, hour_of(frame.receive_ts_ns), self.writer)
            record = _encoder.encode(
                (
                    frame.receive_ts_ns,
                    frame.connection_id,
                    frame.sequence,
                    frame.kind.value,
                    frame.path,
                    frame.payload,
                    frame.format,
                )
            )
            chunks.setdefault(path, []).extend((_LENGTH.pack(len(record)), record))
            count += 1
        for path, parts in chunks.items():
            handle = self._open(path)
            handle.write(self._compressor.compress(b"".join(parts)))
            handle.flush()
            os.fsync(handle.fileno())
        return count

    def _open(self, path: Path) -> BinaryIO:
        handle = self._files.get(path)
        if handle is None:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = self._files[path] = open(path, "ab")  # noqa: SIM115 — kept open across batches
        return handle

    def close_before(self, hour: datetime) -> None:
        """Close files of hours before ``hour`` (no more frames will go there)."""
        for path in [p for p in self._files if _hour_from_path(p) < hour]:
            self._files.pop(path).close()

    def close(self) -> None:
        for handle in self._files.values():
            handle.close()
        self._files.clear()


def _hour_from_path(path: Path) -> datetime:
    return datetime.strptime(f"{path.parent.name} {path.name[:2]}", "%Y-%m-%d %H").replace(tzinfo=UTC)


def read_file(path: Path) -> Iterator[RawFrame]:
    """Every complete record of one archive file, in written order (a torn tail is skipped)."""
    exchange = path.parent.parent.name
    with open(path, "rb") as raw:
        reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
        while True:
            try:
                header = reader.read(_LENGTH.size)
                if len(header) < _LENGTH.size:
                    return
                (length,) = _LENGTH.unpack(header)
                body = reader.read(length)
            except zstandard.ZstdError:
                return  # torn last frame after a crash: everything before it was returned
            if len(body) < length:
                return
            try:
                ts, connection, sequence, kind, request_path, payload, frame_format = _record_decoder.decode(body)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                raise ArchiveError(f"{path}: not a raw archive record: {exc}") from None
            yield RawFrame(exchange, connection, sequence, ts, FrameKind(kind), payload, request_path, frame_format)


def archive_files(root: Path, exchange: str, start: datetime | None = None, end: datetime | None = None) -> list[Path]:
    """The files of ``exchange`` whose hour lies in ``[start, end)``, oldest first."""
    files = sorted((Path(root) / exchange).glob("*/*.raw.zst"))
    return [p for p in files if (start is None or _hour_from_path(p) >= start) and (end is None or _hour_from_path(p) < end)]


def read_archive(root: Path, exchange: str, start: datetime | None = None, end: datetime | None = None) -> Iterator[RawFrame]:
    """Frames of ``exchange`` merged across writers by receive time; each connection's frames in
    sequence order, each once (a frame at or below its connection's last sequence is a duplicate)."""
    last_sequence: dict[str, int] = {}
    by_hour: dict[datetime, list[Path]] = {}
    for path in archive_files(root, exchange, start, end):
        by_hour.setdefault(_hour_from_path(path), []).append(path)
    for hour in sorted(by_hour):
        streams = [read_file(p) for p in by_hour[hour]]
        for frame in heapq.merge(*streams, key=lambda f: (f.receive_ts_ns, f.connection_id, f.sequence)):
            if frame.sequence > last_sequence.get(frame.connection_id, -1):
                last_sequence[frame.connection_id] = frame.sequence
                yield frame
