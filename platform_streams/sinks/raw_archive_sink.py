"""The raw archiver: ``md.raw`` into hourly zstd files (see :mod:`platform_streams.raw_archive`).

Offsets are committed only after the batch's frames are fsynced, so the archive
misses nothing; a crash can archive a batch twice, which readers drop.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
from confluent_kafka import Message
from prometheus_client import Counter

from platform_streams.embedded.paths import state_dir
from platform_streams.kafka_clients import ConsumerProfile
from platform_streams.raw_archive import RawArchiveWriter
from platform_streams.runtime import DaemonSettings, StreamDaemon
from platform_streams.schemas.raw_frames import RawFrame
from platform_streams.topics import RAW_TOPIC


class RawArchiveSettings(DaemonSettings, kw_only=True):
    inputs: list[str] = msgspec.field(default_factory=lambda: [RAW_TOPIC])
    root: str = ""  # default: <state>/archive/raw
    compression_level: int = 3
    batch_max: int = 20_000


class RawArchiveDaemon(StreamDaemon):
    """Archives every raw frame it consumes."""

    settings: RawArchiveSettings
    consumer_profile = ConsumerProfile.BATCH

    def __init__(self, settings: RawArchiveSettings) -> None:
        super().__init__(settings)
        root = Path(settings.root) if settings.root else state_dir() / "archive" / "raw"
        self.writer = RawArchiveWriter(root, self.instance.replace(".", "_"), settings.compression_level)
        self._archived = Counter(
            "platform_archive_frames_written", "Raw frames archived", ("daemon",), registry=self.metrics.registry
        ).labels(settings.name)
        self._next_close = 0.0

    def handle(self, batch: Sequence[Message]) -> Iterable[RawFrame]:
        return [RawFrame.from_record(m.value(), m.headers()) for m in batch]

    def store(self, records: list[Any]) -> None:
        self._archived.inc(self.writer.write(records))

    def periodic(self) -> None:
        now = time.monotonic()
        if now >= self._next_close:  # an hour's files are closed ten minutes after it ends (late frames reopen them)
            self._next_close = now + 60
            self.writer.close_before(datetime.now(UTC) - timedelta(minutes=70))

    def run(self) -> None:
        try:
            super().run()
        finally:
            self.writer.close()
