"""``tradeplat replay``: raw archive files back into ``md.raw``."""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime
from pathlib import Path

from confluent_kafka import Producer
from tqdm import tqdm

from platform_streams.embedded.paths import state_dir
from platform_streams.ingestion.replay import paced, relabelled
from platform_streams.kafka_clients import producer_settings
from platform_streams.raw_archive import archive_files, read_archive
from platform_streams.settings import ConfigError
from platform_streams.topics import RAW_TOPIC, profile_of


def register(sub: argparse._SubParsersAction) -> None:
    replay = sub.add_parser("replay", help="replay the raw archive into md.raw (same canonical output as live)")
    replay.add_argument("--exchange", required=True)
    replay.add_argument("--archive", type=Path, default=None, help="archive root (default: <state>/archive/raw)")
    replay.add_argument("--start", type=_hour, help="first hour, UTC (YYYY-MM-DDTHH)")
    replay.add_argument("--end", type=_hour, help="hour to stop before, UTC (YYYY-MM-DDTHH)")
    replay.add_argument(
        "--speed", type=float, default=0.0, help="1 = as recorded, 10 = ten times faster, 0 = as fast as possible"
    )
    replay.add_argument("--connection-prefix", default="replay:")
    replay.add_argument("--topic", default=RAW_TOPIC)
    replay.set_defaults(run=run_replay)


def _hour(text: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H").replace(tzinfo=UTC)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an hour like 2026-11-25T09") from None


def run_replay(args: argparse.Namespace) -> int:
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "")
    if not bootstrap:
        raise ConfigError("KAFKA_BOOTSTRAP_SERVERS is not set")
    root = args.archive or state_dir() / "archive" / "raw"
    files = archive_files(root, args.exchange, args.start, args.end)
    if not files:
        raise ConfigError(f"no archive files for {args.exchange} in {root} between {args.start} and {args.end}")
    producer = Producer(producer_settings(bootstrap, profile_of(args.topic)))
    frames = relabelled(paced(read_archive(root, args.exchange, args.start, args.end), args.speed), args.connection_prefix)
    sent = 0
    with tqdm(desc=f"replaying {args.exchange}", unit=" frames", unit_scale=True) as progress:
        for frame in frames:
            headers = frame.headers()
            while True:
                try:
                    producer.produce(args.topic, frame.payload, frame.connection_id, headers=headers)
                    break
                except BufferError:
                    producer.poll(0.05)
            producer.poll(0)
            sent += 1
            progress.update()
    undelivered = producer.flush(60)
    print(
        f"replayed {sent} frames from {len(files)} files into {args.topic}"
        + (f"; {undelivered} undelivered" if undelivered else "")
    )
    return 1 if undelivered else 0
