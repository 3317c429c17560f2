"""Reads the platform's raw archive (``platform_streams.raw_archive``) as a recording.

Every archived connection becomes a recorded connection whose frames are its
``ws`` frames in sequence order; ``rest`` frames (book snapshots fetched for a
connection) become REST bodies served at their recorded path.
"""

from __future__ import annotations

from pathlib import Path

from platform_streams.raw_archive import ArchiveError, read_archive
from platform_streams.schemas.raw_frames import FrameKind
from platform_streams.simulator.replay.recording import (
    IN,
    RecordedConnection,
    RecordedFrame,
    RecordedRest,
    Recording,
    ReplayError,
    rest_target,
)


def archive_exchanges(root: Path) -> list[str]:
    """Exchanges with archive files under ``root`` (``<root>/<exchange>/<day>/<hour>.<writer>.raw.zst``)."""
    return sorted({path.parent.parent.name for path in Path(root).glob("*/*/*.raw.zst")})


def read_raw_archive(root: Path, exchanges: list[str] | None = None) -> Recording:
    recording = Recording()
    for exchange in exchanges or archive_exchanges(root):
        connections: dict[str, RecordedConnection] = {}
        try:
            for frame in read_archive(Path(root), exchange):
                if frame.kind is FrameKind.REST:
                    path, parameters = rest_target(frame.path or "/")
                    recording.rest.append(RecordedRest(exchange, frame.receive_ts_ns, path, parameters, frame.payload))
                    continue
                connection = connections.get(frame.connection_id)
                if connection is None:
                    connection = connections[frame.connection_id] = RecordedConnection(
                        exchange=exchange, source=f"{root}:{exchange}:{frame.connection_id}", path=frame.path or None
                    )
                connection.frames.append(RecordedFrame(frame.receive_ts_ns, IN, frame.payload))
        except ArchiveError as exc:
            raise ReplayError(str(exc)) from None
        recording.connections += connections.values()
    return recording
