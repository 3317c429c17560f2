"""The raw archive format: hourly files, torn tails, duplicates across writers."""

from __future__ import annotations

from pathlib import Path

from platform_streams.raw_archive import RawArchiveWriter, archive_files, read_archive, read_file
from platform_streams.schemas.raw_frames import FrameKind, RawFrame

HOUR_NS = 3_600 * 1_000_000_000
T0 = 1_764_000_000 * 1_000_000_000  # 2025-11-24 16:00:00 UTC


def frames(connection: str, count: int, start_ns: int = T0, step_ns: int = 1_000_000) -> list[RawFrame]:
    return [
        RawFrame(
            "binance", connection, i, start_ns + i * step_ns, FrameKind.WEBSOCKET, f'{{"n":{i},"c":"{connection}"}}'.encode()
        )
        for i in range(count)
    ]


def test_frames_come_back_exactly_per_hour_file(tmp_path: Path) -> None:
    writer = RawArchiveWriter(tmp_path, "w1")
    first = frames("c1", 100)
    later = frames("c1", 50, start_ns=T0 + HOUR_NS + 5)
    later = [RawFrame(f.exchange, f.connection_id, f.sequence + 100, f.receive_ts_ns, f.kind, f.payload) for f in later]
    assert writer.write(first[:60]) == 60
    writer.write(first[60:] + later)
    writer.close()
    files = archive_files(tmp_path, "binance")
    assert [p.name for p in files] == ["16.w1.raw.zst", "17.w1.raw.zst"]
    assert list(read_file(files[0])) == first
    assert list(read_archive(tmp_path, "binance")) == first + later


def test_a_torn_tail_keeps_every_complete_batch(tmp_path: Path) -> None:
    writer = RawArchiveWriter(tmp_path, "w1")
    batch = frames("c1", 40)
    writer.write(batch[:20])
    writer.write(batch[20:])
    writer.close()
    path = archive_files(tmp_path, "binance")[0]
    data = path.read_bytes()
    path.write_bytes(data[:-7])  # a crash in the middle of the second zstd frame
    recovered = list(read_file(path))
    assert recovered[:20] == batch[:20]
    assert all(frame in batch for frame in recovered)


def test_duplicates_across_writers_are_dropped_and_order_kept(tmp_path: Path) -> None:
    a, b = RawArchiveWriter(tmp_path, "a"), RawArchiveWriter(tmp_path, "b")
    one, two = frames("c1", 30), frames("c2", 30, start_ns=T0 + 500_000)
    a.write(one[:20] + two)
    b.write(one[15:])  # a re-archived overlap after a rebalance
    a.close()
    b.close()
    replayed = list(read_archive(tmp_path, "binance"))
    assert sorted(replayed, key=lambda f: (f.connection_id, f.sequence)) == one + two
    for connection in ("c1", "c2"):
        sequences = [f.sequence for f in replayed if f.connection_id == connection]
        assert sequences == sorted(sequences)
