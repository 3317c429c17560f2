"""Replay serves recorded traffic over the exchanges' own endpoints, byte for byte and in order.

Every capture of data/exchanges (Binance, OKX, Kraken v1, Coinbase
Exchange) reaches a ``websockets`` client exactly as the exchange sent it; pacing
follows the recording (1x) or a multiple of it; REST bodies recorded in a capture
are served at their path once the replay reaches them; a raw archive written by
``RawArchiveWriter`` replays the same way. Captures: cryptofeed ("This product
includes software developed by Bryant Moscon (http://www.bryantmoscon.com/)"),
hftbacktest (MIT, nkaz001); see INDEX.md.
"""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from platform_streams.raw_archive import RawArchiveWriter
from platform_streams.schemas.raw_frames import FrameKind, RawFrame
from platform_streams.simulator.replay import RecordedConnection, ReplayServer, load_recording
from platform_streams.simulator.replay.recording import OUT
from tests.simulator.conftest import REPOSITORY, capture_directory
from tests.simulator.stream_client import connect, receive_until

CAPTURES = [
    "binance/2021-04-04_cryptofeed_spot_BTC-ETH-DOT.jsonl",
    "binance/2021-04-05_cryptofeed_spot_10sym.jsonl",
    "binance/2021-10-12_cryptofeed_spot_4sym.ws.jsonl",
    "binance/2024-08-08_hftbacktest_spot_BTCUSDT.jsonl.gz",
    "okx/2022-02-27_cryptofeed_v5_books-l2-tbt.ws.jsonl",
    "okx/2022-05-13_cryptofeed_v5_books.ws.jsonl",
    "kraken/2021-04-17_cryptofeed_v1_book.ws.jsonl",
    "kraken/2021-04-17_cryptofeed_v1_trade.ws.jsonl",
    "kraken/2021-04-17_cryptofeed_v1_ticker.ws.jsonl",
    "coinbase/2021-04-17_cryptofeed_exchange-feed_10prod.ws.jsonl",
]


def recorded_url(server: ReplayServer, recorded: RecordedConnection) -> str:
    path = recorded.path or "/"
    return server.urls[recorded.exchange].websocket + path + (f"?{recorded.query}" if recorded.query else "")


async def play_as_the_recorder(
    server: ReplayServer, recorded: RecordedConnection, count: int | None = None
) -> list[tuple[float, str]]:
    """Connect where the recorder did, send its requests, and take ``count`` frames (all by default) with arrival times."""
    expected = len(recorded.received) if count is None else count
    arrivals: list[tuple[float, str]] = []
    async with connect(recorded_url(server, recorded)) as ws:
        for frame in (f for f in recorded.frames if f.direction == OUT):
            await ws.send(frame.payload.decode())
        async with asyncio.timeout(60):
            while len(arrivals) < expected:
                arrivals.append((time.monotonic(), str(await ws.recv())))
    return arrivals


@pytest.mark.parametrize("capture", CAPTURES, ids=[c.split("/")[1][:40] for c in CAPTURES])
def test_every_capture_replays_byte_identical_and_in_order(capture: str) -> None:
    recording = load_recording([capture_directory() / capture])

    async def run() -> None:
        async with ReplayServer(recording, speed=0) as server:
            for recorded in recording.connections:
                arrivals = await play_as_the_recorder(server, recorded)
                assert [text for _, text in arrivals] == [f.payload.decode() for f in recorded.received]

    asyncio.run(run())


def test_pacing_follows_the_recording_at_1x_and_when_accelerated() -> None:
    recording = load_recording([capture_directory() / "okx/2022-05-13_cryptofeed_v5_books.ws.jsonl"])
    (recorded,) = recording.connections
    received = recorded.received
    sent = next(f for f in recorded.frames if f.direction == OUT).time_ns
    count = next(i for i, f in enumerate(received) if f.time_ns - sent > 1.2e9)  # the first 1.2 s after the request

    def lateness(speed: float, arrivals: list[tuple[float, str]]) -> list[float]:
        """How far behind the recorded schedule (relative to the first frame) each frame arrived, in seconds."""
        start, first = arrivals[0][0], received[0].time_ns
        return [(t - start) - (f.time_ns - first) / 1e9 / speed for (t, _), f in zip(arrivals, received, strict=False)]

    async def run(speed: float, frames: int) -> list[tuple[float, str]]:
        async with ReplayServer(recording, speed=speed) as server:
            return await play_as_the_recorder(server, recorded, frames)

    at_1x = asyncio.run(run(1.0, count))
    assert [t for _, t in at_1x] == [f.payload.decode() for f in received[:count]]
    assert min(lateness(1.0, at_1x)) > -0.05  # nothing early
    spread = (received[count - 1].time_ns - received[0].time_ns) / 1e9
    assert at_1x[-1][0] - at_1x[0][0] >= spread - 0.05 and spread > 0.5  # the recorded gaps were kept

    accelerated = asyncio.run(run(20.0, len(received)))
    assert [t for _, t in accelerated] == [f.payload.decode() for f in received]
    assert min(lateness(20.0, accelerated)) > -0.05


def test_rest_bodies_are_served_at_their_path_once_the_replay_reaches_them() -> None:
    capture = capture_directory() / "binance/2021-04-05_cryptofeed_spot_10sym.jsonl"
    recording = load_recording([capture, capture_directory() / "binance/2021-10-12_cryptofeed_exchangeInfo.rest.jsonl"])
    (recorded,) = recording.connections
    snapshot = next(r for r in recording.rest if r.parameters == (("symbol", "ZILUSDT"),))
    before = sum(f.time_ns <= snapshot.time_ns for f in recorded.received)

    async def run() -> None:
        timeout = aiohttp.ClientTimeout(total=30)
        async with ReplayServer(recording, speed=4) as server, aiohttp.ClientSession(timeout=timeout) as http:
            rest = server.urls["binance"].rest
            async with connect(recorded_url(server, recorded)) as ws:
                asked = asyncio.create_task(http.get(f"{rest}/api/v3/depth?symbol=ZILUSDT&limit=1000"))
                frames = await receive_until(ws, lambda fs: asked.done())
                response = await asked
                assert response.status == 200 and await response.read() == snapshot.body
                assert len(frames) >= before - 1  # it came when the stream had reached its moment, not before
                async with http.get(f"{rest}/api/v3/exchangeInfo") as info:
                    assert (await info.read()) == next(r.body for r in recording.rest if r.path == "/api/v3/exchangeInfo")
                async with http.get(f"{rest}/api/v3/depth?symbol=NOPE") as missing:
                    assert missing.status == 404

    asyncio.run(run())


def test_the_coinbase_feed_starts_on_a_subscribe() -> None:
    recording = load_recording([capture_directory() / "coinbase/2021-04-17_cryptofeed_exchange-feed_10prod.ws.jsonl"])
    (recorded,) = recording.connections

    async def run() -> None:
        async with ReplayServer(recording, speed=0, first_message_wait_s=30) as server:
            async with connect(server.urls["coinbase"].websocket + "/") as ws:
                await ws.send('{"type":"hello"}')
                assert '"type":"error"' in str(await ws.recv())
                await ws.send(recorded.first_sent.payload.decode() if recorded.first_sent else "")
                frames = await receive_until(ws, lambda fs: len(fs) == 5)
                assert frames == [f.payload.decode() for f in recorded.received[:5]]

    asyncio.run(run())


def test_a_raw_archive_replays_each_connection_in_sequence(tmp_path: Path) -> None:
    start_ns = 1_700_000_000_000_000_000
    frames = [
        RawFrame(
            "okx",
            connection,
            sequence,
            start_ns + sequence * 20_000_000 + offset,
            FrameKind.WEBSOCKET,
            f'{{"c":"{connection}","n":{sequence}}}'.encode(),
        )
        for connection, offset in (("okx-a", 0), ("okx-b", 5_000_000))
        for sequence in range(30)
    ]
    frames.append(
        RawFrame(
            "okx",
            "okx-a",
            30,
            start_ns + 100_000_000,
            FrameKind.REST,
            b'{"code":"0","data":[],"msg":""}',
            "/api/v5/market/books?instId=BTC-USDT&sz=400",
        )
    )
    writer = RawArchiveWriter(tmp_path, "w1")
    writer.write(frames[:25])
    writer.write(frames[25:])
    writer.close()
    recording = load_recording([tmp_path])
    assert [len(c.received) for c in recording.connections] == [30, 30]

    async def run() -> None:
        async with ReplayServer(recording, speed=2) as server, aiohttp.ClientSession() as http:
            url = server.urls["okx"].websocket + "/ws/v5/public"
            async with connect(url) as first, connect(url) as second:
                got = [await receive_until(ws, lambda fs: len(fs) == 30) for ws in (first, second)]
                async with http.get(server.urls["okx"].rest + "/api/v5/market/books?instId=BTC-USDT&sz=5") as response:
                    assert await response.read() == b'{"code":"0","data":[],"msg":""}'
        for connection, texts in zip(("okx-a", "okx-b"), got, strict=True):
            assert texts == [f'{{"c":"{connection}","n":{n}}}' for n in range(30)]

    asyncio.run(run())


def test_tradeplat_simulate_replay_serves_a_capture_until_sigint() -> None:
    capture = capture_directory() / "kraken/2021-04-17_cryptofeed_v1_book.ws.jsonl"
    command = [sys.executable, "-m", "platform_streams.cli.main", "simulate", "--replay", str(capture), "--speed", "50"]
    process = subprocess.Popen(command, cwd=REPOSITORY, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith("Ctrl-C"):
                break
        found = re.search(r"kraken\s+REST http://127\.0\.0\.1:\d+\s+WS (ws://127\.0\.0\.1:\d+)/", "".join(lines))
        assert found is not None, lines
        recorded = load_recording([capture]).connections[0]

        async def run() -> list[str]:
            async with connect(found.group(1) + "/") as ws:
                await ws.send(recorded.first_sent.payload.decode() if recorded.first_sent else "")
                return await receive_until(ws, lambda fs: len(fs) == 20)

        assert asyncio.run(run()) == [f.payload.decode() for f in recorded.received[:20]]
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
