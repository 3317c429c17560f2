"""Benchmark of the exchange simulator: market data messages per second it emits to WebSocket clients.

The simulator runs as ``tradeplat simulate`` in its own process, pinned to one CPU,
with 3,000 instruments (``--exchanges binance,okx,kraken`` splits them: 1,000 on
each). Another process (pinned to another CPU when the machine has one) opens raw
WebSocket connections that subscribe to every instrument — Binance ``@trade``,
``@aggTrade``, ``@bookTicker``, ``@depth@100ms`` (1,000 streams per connection);
OKX ``trades``, ``books``, ``bbo-tbt``, ``tickers``; Kraken ``trade``, ``book`` (depth
10) and ``ticker`` — answers pings and counts the text frames it receives, so no
client CPU is charged to the server. ``--channels pipeline`` subscribes instead to
what the platform's ingestion subscribes to (the adapters' default channels, in
``deployments/market-data.yaml``'s connection layout): Binance ``@trade``,
``@depth@100ms`` and ``@bookTicker`` on combined ``/stream`` connections, OKX
``trades``, ``books`` and ``bbo-tbt``, Kraken ``trade``, ``book`` (depth 10) and
``ticker``, each exchange's instruments over three connections.

After a warm-up, each run counts frames per second for ``--seconds``; the figure is
the median over runs of each run's median second, printed with the server's CPU use
and its CPU time per frame sent (user + system from ``/proc``, over the frames its
ground truth recorded: the machine is shared, CPU time is what another process
changes least, and a client that falls behind does not change what the server
sent). The default ``--rate`` saturates one core, so the figure is the server's
capacity (simulated time then falls behind real time, which is reported); a lower
rate measures the load that rate produces.

``--in-process`` measures the same subscriptions without sockets, clients or a real
clock: a :class:`Simulator` with a manual clock (seed 7, a fixed epoch) steps
``--warmup-quanta`` then ``--quanta`` quanta of 10 ms, its connections writing to a
transport that only counts, and the figure is the CPU time of those ``--quanta``
steps per frame written (a fresh simulator per run). The same quanta are simulated
in every run and by every version of the code, so two versions compare quantum for
quantum; what it leaves out is the kernel's share of the socket writes and the
event loop (a few percent).

    .venv/bin/python benchmarks/simulator.py [--exchanges binance,okx,kraken] [--rate 100000] [--runs 3] [--seconds 10]
    .venv/bin/python benchmarks/simulator.py --exchanges binance,okx,kraken --channels pipeline --rate 8000
    .venv/bin/python benchmarks/simulator.py --exchanges binance,okx,kraken --channels pipeline --rate 8000 --in-process

The last line printed is one JSON object: ``{"emit_eps": <frames/s>, "cpu_us_per_frame": <µs>}``
(medians over the runs; with ``--in-process``, ``emit_eps`` is the frames per simulated second).
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
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

REPOSITORY = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class ChannelSet:
    """What the clients subscribe to on each exchange, and how they spread it over connections."""

    binance: tuple[str, ...]
    binance_path: str  # "/ws" (raw payloads) or "/stream" (combined)
    okx: tuple[str, ...]
    kraken: tuple[dict[str, object], ...]
    connections_per_exchange: int  # OKX and Kraken
    binance_streams_per_connection: int  # Binance takes as many connections as its streams need


CHANNEL_SETS = {
    "all": ChannelSet(
        binance=("trade", "aggTrade", "bookTicker", "depth@100ms"),
        binance_path="/ws",
        okx=("trades", "books", "bbo-tbt", "tickers"),
        kraken=({"name": "trade"}, {"name": "book", "depth": 10}, {"name": "ticker"}),
        connections_per_exchange=2,
        binance_streams_per_connection=1000,
    ),
    # platform_streams/exchanges/*/feed.py default_channels; the shard planner puts 1024 // 3 instruments on a connection
    "pipeline": ChannelSet(
        binance=("trade", "depth@100ms", "bookTicker"),
        binance_path="/stream",
        okx=("trades", "books", "bbo-tbt"),
        kraken=({"name": "trade"}, {"name": "book", "depth": 10}, {"name": "ticker"}),
        connections_per_exchange=3,
        binance_streams_per_connection=1024,
    ),
}
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


def cpu_seconds(pid: int) -> tuple[float, float]:
    """User and system CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    exchanges: list[str], instruments: int, rate: float, ports: dict[str, int], log: Path
) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``tradeplat simulate``; returns the process and its control API URL."""
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
    control_url = ""
    for line in server.stdout:
        if line.strip().startswith(b"control"):
            control_url = line.split()[1].decode().rsplit("/", 1)[0]  # http://host:port/_control
        if line.startswith(b"Ctrl-C"):
            break
    else:
        raise RuntimeError(f"the simulator did not start; see {log}")
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(server.pid, {0})
    return server, control_url


def messages_sent(control_url: str) -> int:
    """Market data messages the server has written so far, by its ground truth (one frame each here: every
    subscription has one subscriber)."""
    return int(fetch(f"{control_url}/ground_truth/summary")["messages"])


def fetch(url: str) -> dict:
    return json.loads(urllib.request.urlopen(url, timeout=30).read())


def split(items: list[str], parts: int) -> list[list[str]]:
    size = -(-len(items) // parts)
    return [items[i : i + size] for i in range(0, len(items), size)]


def subscribers(exchange: str, port: int, channels: ChannelSet) -> list[Subscriber]:
    """The client connections that subscribe to every instrument of one exchange."""
    base = f"http://127.0.0.1:{port}"
    if exchange == "okx":
        ids = [entry["instId"] for entry in fetch(f"{base}/api/v5/public/instruments?instType=SPOT")["data"]]
        return [
            (
                port,
                "/ws/v5/public",
                [
                    json.dumps(
                        {"op": "subscribe", "args": [{"channel": c, "instId": i} for i in group for c in channels.okx]}
                    ).encode()
                ],
            )
            for group in split(ids, channels.connections_per_exchange)
        ]
    if exchange == "kraken":
        pairs = [entry["wsname"] for entry in fetch(f"{base}/0/public/AssetPairs")["result"].values()]
        return [
            (
                port,
                "/",
                [json.dumps({"event": "subscribe", "pair": group, "subscription": s}).encode() for s in channels.kraken],
            )
            for group in split(pairs, channels.connections_per_exchange)
        ]
    info = fetch(f"{base}/api/v3/exchangeInfo")
    symbols = [s["symbol"].lower() for s in info["symbols"]]
    per_connection = channels.binance_streams_per_connection // len(channels.binance)
    groups = [
        [f"{symbol}@{channel}" for symbol in symbols[i : i + per_connection] for channel in channels.binance]
        for i in range(0, len(symbols), per_connection)
    ]
    path = channels.binance_path
    return [(port, path, [json.dumps({"method": "SUBSCRIBE", "params": group, "id": 1}).encode()]) for group in groups]


class CountingTransport:
    """Stands in for a socket: counts what it is given."""

    def __init__(self) -> None:
        self.written = 0

    def write(self, data: bytes) -> None:
        self.written += len(data)

    def is_closing(self) -> bool:
        return False

    def get_write_buffer_size(self) -> int:
        return 0

    def abort(self) -> None:
        """Nothing to abort: this transport only counts what the simulator writes."""


def in_process_run(
    exchanges: list[str], instruments: int, rate: float, channels: ChannelSet, warmup: int, quanta: int
) -> tuple[int, float]:
    """A fresh simulator with counting connections subscribed like the clients, stepped ``warmup`` then
    ``quanta`` quanta; returns the frames written and the CPU seconds of the ``quanta`` steps."""
    if str(REPOSITORY) not in sys.path:
        sys.path.insert(0, str(REPOSITORY))  # the code the subprocess mode would run
    from platform_streams.simulator.binance.stream_hub import StreamConnection
    from platform_streams.simulator.config import load_simulator_config
    from platform_streams.simulator.kraken.channels import SLOT, Subscription
    from platform_streams.simulator.kraken.subscriptions import KrakenConnection
    from platform_streams.simulator.okx.channels import CHANNEL_BY_NAME, OkxConnection
    from platform_streams.simulator.server import Simulator

    values = {"exchanges": exchanges, "instruments": instruments, "rate": rate, "seed": 7, "clock": "manual"}
    simulator = Simulator(load_simulator_config({**values, "epoch_ms": 1_700_000_000_000}))
    no_socket = cast(Any, None)  # the connections only ever write to their transport
    connections: list[Any] = []

    def request() -> Any:
        return SimpleNamespace(transport=CountingTransport(), remote="127.0.0.1")

    for name, venue in simulator.venues.items():
        hub: Any = venue.hub  # type: ignore[attr-defined]  # every protocol's venue has one
        if name == "binance":
            symbols = [symbol.lower() for symbol in venue.symbols.names]  # type: ignore[attr-defined]
            per_connection = channels.binance_streams_per_connection // len(channels.binance)
            for i in range(0, len(symbols), per_connection):
                connection = StreamConnection(no_socket, request(), 1 << 30, combined=channels.binance_path == "/stream")
                hub.attach(connection)
                hub.subscribe(connection, [f"{s}@{c}" for s in symbols[i : i + per_connection] for c in channels.binance])
                connections.append(connection)
            continue
        count = len(venue.market.instruments)
        size = -(-count // channels.connections_per_exchange)
        for group in (range(first, min(first + size, count)) for first in range(0, count, size)):
            if name == "okx":
                connection = OkxConnection(no_socket, request(), 1 << 30, "00000000")
                hub.attach(connection)
                for instrument in group:
                    for channel in channels.okx:
                        hub.subscribe(connection, CHANNEL_BY_NAME[channel], instrument)
            else:
                connection = KrakenConnection(no_socket, request(), 1 << 30, 0)
                hub.subscriptions.attach(connection)
                for subscription in channels.kraken:
                    slot = SLOT[Subscription(str(subscription["name"]), int(str(subscription.get("depth", 0))))]
                    for instrument in group:
                        snapshot = hub.subscribe(connection, slot, instrument, simulator.clock.now_ms)
                        if snapshot is not None:
                            connection.send_now(snapshot)
            connections.append(connection)
    simulator.step(warmup)
    written = sum(connection.frames_written for connection in connections)
    started = time.process_time()
    simulator.step(quanta)
    cpu = time.process_time() - started
    return sum(connection.frames_written for connection in connections) - written, cpu


def measure_in_process(args: argparse.Namespace, exchanges: list[str]) -> None:
    print(
        f"in process: {args.instruments} instruments on {', '.join(exchanges)}, rate {args.rate:g} events/s, "
        f"{args.channels} channels; quanta {args.warmup_quanta} to {args.warmup_quanta + args.quanta} measured"
    )
    rates, costs = [], []
    for run in range(args.runs):
        frames, cpu = in_process_run(
            exchanges, args.instruments // len(exchanges), args.rate, CHANNEL_SETS[args.channels], args.warmup_quanta, args.quanta
        )
        rates.append(frames / (args.quanta / 100))
        costs.append(cpu / max(frames, 1) * 1e6)
        print(f"run {run + 1}: {rates[-1]:,.0f} frames per simulated second, {costs[-1]:.2f} µs CPU per frame")
    print(json.dumps({"emit_eps": round(statistics.median(rates)), "cpu_us_per_frame": round(statistics.median(costs), 2)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instruments", type=int, default=3000, help="instruments in all, split evenly across the exchanges")
    parser.add_argument("--exchanges", default="binance", help="comma-separated: binance, okx, kraken")
    parser.add_argument(
        "--rate", type=float, default=100_000.0, help="order-flow events/s to generate (the default saturates one core)"
    )
    parser.add_argument(
        "--channels",
        choices=sorted(CHANNEL_SETS),
        default="all",
        help="all: 4 channels per exchange (Binance raw /ws); pipeline: what the platform's ingestion subscribes to",
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--warmup-seconds", type=int, default=4)
    parser.add_argument("--in-process", action="store_true", help="no sockets: a manual clock, counting connections")
    parser.add_argument("--warmup-quanta", type=int, default=400, help="--in-process: quanta stepped before measuring")
    parser.add_argument("--quanta", type=int, default=1000, help="--in-process: quanta measured (10 ms each)")
    args = parser.parse_args()

    exchanges = [name.strip() for name in args.exchanges.split(",") if name.strip()]
    if args.in_process:
        measure_in_process(args, exchanges)
        return
    ports = {exchange: free_port() for exchange in exchanges}
    log = Path(tempfile.mkdtemp(prefix="simulator-bench-")) / "server.log"
    server, control_url = start_server(exchanges, args.instruments // len(exchanges), args.rate, ports, log)
    try:
        channels = CHANNEL_SETS[args.channels]
        clients = [subscriber for exchange in exchanges for subscriber in subscribers(exchange, ports[exchange], channels)]
        print(
            f"simulator: {args.instruments} instruments on {', '.join(exchanges)}, rate {args.rate:g} events/s, pinned to CPU 0; "
            f"clients: {len(clients)} connections subscribed to every instrument ({args.channels} channels)"
        )
        total = args.warmup_seconds + args.runs * args.seconds + 1
        results: multiprocessing.Queue[tuple[float, int]] = multiprocessing.get_context("spawn").Queue()
        client = multiprocessing.get_context("spawn").Process(target=client_process, args=("127.0.0.1", clients, total, results))
        client.start()
        samples = [results.get(timeout=60) for _ in range(args.warmup_seconds)]
        run_medians, run_costs = [], []
        for run in range(args.runs):
            sent_before = messages_sent(control_url)  # outside the CPU window: the summary costs the server
            (user_before, system_before), wall_before = cpu_seconds(server.pid), time.monotonic()
            window = [results.get(timeout=60) for _ in range(args.seconds)]
            user_after, system_after = cpu_seconds(server.pid)
            wall = time.monotonic() - wall_before
            sent = messages_sent(control_url) - sent_before
            user, system = user_after - user_before, system_after - system_before
            counts = [samples[-1]] + window
            rates = [(b[1] - a[1]) / (b[0] - a[0]) for a, b in zip(counts, counts[1:], strict=False)]
            samples += window
            median = statistics.median(rates)
            run_medians.append(median)
            cost_us = (user + system) / max(sent, 1) * 1e6
            run_costs.append(cost_us)
            print(
                f"run {run + 1}: median {median:,.0f} frames/s received (min {min(rates):,.0f}, max {max(rates):,.0f}); "
                f"server sent {sent / wall:,.0f} frames/s with {(user + system) / wall:.0%} CPU: {cost_us:.1f} µs CPU per frame "
                f"(user {user / max(sent, 1) * 1e6:.1f}, system {system / max(sent, 1) * 1e6:.1f})"
            )
        client.join(timeout=30)
    finally:
        server.terminate()
        server.wait(timeout=30)
    lagging = sum("behind real time" in line for line in log.read_text().splitlines())
    print(f"server lag warnings: {lagging} (simulated time fell behind real time when > 0; log {log})")
    print(
        json.dumps(
            {"emit_eps": round(statistics.median(run_medians)), "cpu_us_per_frame": round(statistics.median(run_costs), 2)}
        )
    )


if __name__ == "__main__":
    main()
