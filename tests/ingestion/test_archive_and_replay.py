"""md.raw → archiver daemon → hourly files → `tradeplat replay` → md.raw again, frame for frame."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from confluent_kafka import Producer

from platform_streams.ingestion.replay import paced
from platform_streams.kafka_clients import ProducerProfile, producer_settings
from platform_streams.raw_archive import archive_files, read_archive
from platform_streams.schemas.raw_frames import FrameKind, RawFrame
from platform_streams.sinks.raw_archive_sink import RawArchiveDaemon, RawArchiveSettings
from tests.kafka_helpers import DaemonThread, read_until
from tests.waiting import wait_until

T0 = 1_764_000_000 * 1_000_000_000


def sample_frames() -> list[RawFrame]:
    frames = []
    for connection in ("binance-000", "binance-001"):
        for i in range(500):
            kind = FrameKind.REST if i == 0 else FrameKind.WEBSOCKET
            payload = f'{{"c":"{connection}","i":{i},"pad":"{"x" * (i % 40)}"}}'.encode()
            frames.append(
                RawFrame("binance", connection, i, T0 + i * 7_000_000, kind, payload, "/api/v3/depth?symbol=X" if i == 0 else "")
            )
    return frames


def produce_frames(bootstrap: str, topic: str, frames: list[RawFrame]) -> None:
    producer = Producer(producer_settings(bootstrap, ProducerProfile.LATENCY))
    for frame in frames:
        producer.produce(topic, frame.payload, frame.connection_id, headers=frame.headers())
    assert producer.flush(30) == 0


def test_archive_then_replay_reproduces_every_frame(kafka_bootstrap, topic_factory, tmp_path: Path) -> None:
    raw, replayed_topic = topic_factory("raw"), topic_factory("replayed")
    frames = sample_frames()
    produce_frames(kafka_bootstrap, raw, frames)
    settings = RawArchiveSettings(
        name="archiver-test", group=f"arch-{time.time_ns()}", bootstrap_servers=kafka_bootstrap, inputs=[raw],
        metrics_port=-1, root=str(tmp_path / "archive"),
    )  # fmt: skip
    daemon = RawArchiveDaemon(settings)
    with DaemonThread(daemon):
        wait_until(lambda: daemon.messages_in >= len(frames), 60, "the archiver to consume every frame")
    archived = list(read_archive(tmp_path / "archive", "binance"))
    assert sorted(archived, key=lambda f: (f.connection_id, f.sequence)) == frames
    assert len(archive_files(tmp_path / "archive", "binance")) == 1

    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap}
    command = [sys.executable, "-m", "platform_streams.cli.main", "replay", "--exchange", "binance",
               "--archive", str(tmp_path / "archive"), "--topic", replayed_topic, "--connection-prefix", "replay:"]  # fmt: skip
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert f"replayed {len(frames)} frames" in result.stdout
    messages = read_until(kafka_bootstrap, replayed_topic, lambda got: len(got) >= len(frames))
    back = [RawFrame.from_record(m.value(), m.headers()) for m in messages]
    assert sorted((f.connection_id, f.sequence, f.receive_ts_ns, f.kind, f.path, f.payload) for f in back) == sorted(
        ("replay:" + f.connection_id, f.sequence, f.receive_ts_ns, f.kind, f.path, f.payload) for f in frames
    )
    for connection in ("replay:binance-000", "replay:binance-001"):  # one connection stays in order
        sequences = [f.sequence for f in back if f.connection_id == connection]
        assert sequences == sorted(sequences)


def test_paced_replay_keeps_the_recorded_spacing() -> None:
    frames = sample_frames()[:20]
    now = [0.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    assert list(paced(frames, speed=2.0, sleep=sleep, clock=lambda: now[0])) == frames
    span_s = (frames[-1].receive_ts_ns - frames[0].receive_ts_ns) / 1e9
    assert abs(now[0] - span_s / 2.0) < 1e-9
    assert len(sleeps) == len(frames) - 1
