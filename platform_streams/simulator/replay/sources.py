"""Finds what to replay from the paths given: capture files, directories of captures, or a raw archive root."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from platform_streams.simulator.replay.archive_reader import archive_exchanges, read_raw_archive
from platform_streams.simulator.replay.capture_reader import read_capture
from platform_streams.simulator.replay.recording import Recording, ReplayError

_CAPTURE_SUFFIXES = (".jsonl", ".jsonl.gz")


def load_recording(paths: Sequence[Path]) -> Recording:
    """One recording of everything under ``paths``: each a capture file, a directory of them, or an archive root."""
    recording = Recording()
    for path in map(Path, paths):
        if not path.exists():
            raise ReplayError(f"{path} does not exist")
        if path.is_dir() and archive_exchanges(path):
            recording.extend(read_raw_archive(path))
        elif path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.name.endswith(_CAPTURE_SUFFIXES))
            if not files:
                raise ReplayError(f"{path} holds neither capture files (*.jsonl, *.jsonl.gz) nor a raw archive")
            for file in files:
                recording.extend(read_capture(file))
        else:
            recording.extend(read_capture(path))
    if not recording.connections and not recording.rest:
        raise ReplayError(f"nothing to replay in {[str(p) for p in paths]}")
    return recording
