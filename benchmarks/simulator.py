"""Benchmark of the exchange simulator: market data messages per second it emits to WebSocket clients.

The simulator runs as ``tradeplat simulate`` in its own process, pinned to one CPU,
with 3,000 instruments (``--exchanges binance,okx,kraken`` splits them: 1,000 on
each). Another process (pinned to another CPU when the machine has one) opens raw
WebSocket connections that subscribe to every instrument — Binance ``@trade``,
``@aggTrade``, ``@bookTicker``, ``@depth@100ms`` (1,000 streams per connection);
OKX ``trades``, ``books``, ``bbo-tbt``, ``tickers``; Kraken ``trade``, ``book`` (depth
10) and ``ticker`` — answers pings and counts the text frames it receives, so no
client CPU is charged to the server. After a warm-up, each run counts frames per second
for ``--seconds``; the figure is the median over runs of each run's median
second, printed with the server's CPU use. The default ``--rate`` saturates one
core, so the figure is the server's capacity (simulated time then falls behind
real time, which is reported); a lower rate measures the load that rate produces.

    .venv/bin/python benchmarks/simulator.py [--exchanges binance,okx,kraken] [--rate 100000] [--runs 3] [--seconds 10]

The last line printed is one JSON object: ``{"emit_eps": <frames/s>}``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
CHANNELS = ("trade", "aggTrade", "bookTicker", "depth@100ms")
OKX_CHANNELS = ("trades", "books", "bbo-tbt", "tickers")
KRAKEN_SUBSCRIPTIONS = ({"name": "trade"}, {"name": "book", "depth": 10}, {"name": "ticker"})
STREAMS_PER_CONNECTION = 1000
#: A client connection: (port, path, subscription messages sent once connected).
Subscriber = tuple[int, str, list[bytes]]


class FrameCounter(asyncio.Protocol):
    """A minimal WebSocket client: handshake, its subscription messages, then count text frames and answer pings."""

    def __init__(self, host: str, path: str, messages: list[bytes], counter: list[int]) -> None:
        self.host, self.path, self.messages, self.counter = host, path, messages, counter
        self.buffer = bytearray()
        self.upgraded = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        request = f"GET {self.path} HTTP/1.1\r\nHost: {self.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        transport.write(request.encode())

    def _send(self, opcode: int, payload: bytes) -> None:
        mask = os.urandom(4)
        length = len(payload)
        header = bytes([0x80 | opcode]) + (
            bytes([0x80 | length])
            if length < 126
            else bytes([0x80 | 126]) + length.to_bytes(2, "big")
            if length < 65536
            else bytes([0x80 | 127]) + length.to_bytes(8, "big")
        )
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        assert self.transport is not None
        self.transport.write(header + mask + masked)

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        if not self.upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buffer.startswith(b"HTTP/1.1 101"):
                raise ConnectionError(bytes(buffer[:200]).decode(errors="replace"))
            del buffer[: end + 4]
            self.upgraded = True
            for message in self.messages:
                self._send(1, message)
        position, size, frames = 0, len(buffer), 0
        while size - position >= 2:
            first, length = buffer[position], buffer[position + 1] & 0x7F
            header = 2
            if length == 126:
                if size - position < 4:
                    break
                length, header = int.from_bytes(buffer[position + 2 : position + 4], "big"), 4
            elif length == 127:
                if size - position < 10:
                    break
                length, header = int.from_bytes(buffer[position + 2 : position + 10], "big"), 10
            if size - position < header + length:
                break
            opcode = first & 0x0F
            if opcode == 1:
                frames += 1
            elif opcode == 9:
                self._send(10, bytes(buffer[position + header : position + header + length]))
            position += header + length
        del buffer[:position]
        self.counter[0] += frames


def client_process(
    host: str, subscribers: list[Subscriber], seconds: float, results: multiprocessing.Queue[tuple[float, int]]
) -> None:
    """Connect every subscriber, then report the cumulative frame count every second for ``seconds``."""
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})

    async def run() -> None:
        loop = asyncio.get_running_loop()
        counter = [0]
        for port, path, messages in subscribers:
            await loop.create_connection(lambda p=path, m=messages: FrameCounter(host, p, m, counter), host, port)
            await asyncio.sleep(0.4)  # OKX allows 3 connection attempts per second
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            await asyncio.sleep(1.0 - (time.monotonic() - started) % 1.0)
            results.put((time.monotonic(), counter[0]))

    asyncio.run(run())


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    exchanges: list[str], instruments: int, rate: float, ports: dict[str, int], log: Path
) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "platform_streams.cli.main",
        "simulate",
        "--exchanges",
        ",".join(exchanges),
        "--instruments",
        str(instruments),
        "--rate",
        str(rate),
        "--seed",
        "7",
    ]
    for exchange, port in ports.items():
        command += ["--port", f"{exchange}={port}"]
    server = subprocess.Popen(command, cwd=REPOSITORY, stdout=subprocess.PIPE, stderr=log.open("wb"))
    assert server.stdout is not None
    for line in server.stdout:
        if line.startswith(b"Ctrl-C"):
            break
    else:
        raise RuntimeError(f"the simulator did not start; see {log}")
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(server.pid, {0})
    return server


def fetch(url: str) -> dict:
    return json.loads(urllib.request.urlopen(url, timeout=30).read())


def subscribers(exchange: str, port: int) -> list[Subscriber]:
    """The client connections that subscribe to every instrument of one exchange."""
    base = f"http://127.0.0.1:{port}"
    if exchange == "okx":
        ids = [entry["instId"] for entry in fetch(f"{base}/api/v5/public/instruments?instType=SPOT")["data"]]
        halves = [ids[: len(ids) // 2], ids[len(ids) // 2 :]]
        return [
            (
                port,
                "/ws/v5/public",
                [
                    json.dumps(
                        {"op": "subscribe", "args": [{"channel": c, "instId": i} for i in half for c in OKX_CHANNELS]}
                    ).encode()
                ],
            )
            for half in halves
        ]
    if exchange == "kraken":
        pairs = [entry["wsname"] for entry in fetch(f"{base}/0/public/AssetPairs")["result"].values()]
        halves = [pairs[: len(pairs) // 2], pairs[len(pairs) // 2 :]]
        return [
            (
                port,
                "/",
                [json.dumps({"event": "subscribe", "pair": half, "subscription": s}).encode() for s in KRAKEN_SUBSCRIPTIONS],
            )
            for half in halves
        ]
    info = fetch(f"{base}/api/v3/exchangeInfo")
    names = [f"{s['symbol'].lower()}@{channel}" for s in info["symbols"] for channel in CHANNELS]
    groups = [names[i : i + STREAMS_PER_CONNECTION] for i in range(0, len(names), STREAMS_PER_CONNECTION)]
    return [(port, "/ws", [json.dumps({"method": "SUBSCRIBE", "params": group, "id": 1}).encode()]) for group in groups]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instruments", type=int, default=3000, help="instruments in all, split evenly across the exchanges")
    parser.add_argument("--exchanges", default="binance", help="comma-separated: binance, okx, kraken")
    parser.add_argument(
        "--rate", type=float, default=100_000.0, help="order-flow events/s to generate (the default saturates one core)"
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--warmup-seconds", type=int, default=4)
    args = parser.parse_args()

    exchanges = [name.strip() for name in args.exchanges.split(",") if name.strip()]
    ports = {exchange: free_port() for exchange in exchanges}
    log = Path(tempfile.mkdtemp(prefix="simulator-bench-")) / "server.log"
    server = start_server(exchanges, args.instruments // len(exchanges), args.rate, ports, log)
    try:
        clients = [subscriber for exchange in exchanges for subscriber in subscribers(exchange, ports[exchange])]
        print(
            f"simulator: {args.instruments} instruments on {', '.join(exchanges)}, rate {args.rate:g} events/s, pinned to CPU 0; "
            f"clients: {len(clients)} connections subscribed to every instrument"
        )
        total = args.warmup_seconds + args.runs * args.seconds + 1
        results: multiprocessing.Queue[tuple[float, int]] = multiprocessing.get_context("spawn").Queue()
        client = multiprocessing.get_context("spawn").Process(target=client_process, args=("127.0.0.1", clients, total, results))
        client.start()
        samples = [results.get(timeout=60) for _ in range(args.warmup_seconds)]
        run_medians = []
        for run in range(args.runs):
            cpu_before, wall_before = cpu_seconds(server.pid), time.monotonic()
            window = [results.get(timeout=60) for _ in range(args.seconds)]
            cpu = (cpu_seconds(server.pid) - cpu_before) / (time.monotonic() - wall_before)
            counts = [samples[-1]] + window
            rates = [(b[1] - a[1]) / (b[0] - a[0]) for a, b in zip(counts, counts[1:], strict=False)]
            samples += window
            median = statistics.median(rates)
            run_medians.append(median)
            print(
                f"run {run + 1}: median {median:,.0f} frames/s (min {min(rates):,.0f}, max {max(rates):,.0f}), server CPU {cpu:.0%}"
            )
        client.join(timeout=30)
    finally:
        server.terminate()
        server.wait(timeout=30)
    lagging = sum("behind real time" in line for line in log.read_text().splitlines())
    print(f"server lag warnings: {lagging} (simulated time fell behind real time when > 0; log {log})")
    print(json.dumps({"emit_eps": round(statistics.median(run_medians))}))


if __name__ == "__main__":
    main()
