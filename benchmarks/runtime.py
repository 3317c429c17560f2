"""Benchmark of the stream runtime on the embedded Kafka with 150-byte events.

Measures, each over several runs (medians printed with min and max):
- throughput_eps: events/s through one pass-through daemon process (validating
  every event), draining a pre-loaded backlog;
- overhead_p99_ms: the runtime's own time per event at 5,000 events/s — from the
  client handing a batch to the runtime to the event's output being handed to the
  producer (every event of a batch is charged the whole batch's time);
- hop_p50_ms / hop_p99_ms: one hop produce → consume at 5,000 events/s with the
  runtime's latency producer and consumer settings;
- broker_rss_mb: the broker's resident memory at the end.

A warm-up of ``--warmup-seconds`` at the latency rate precedes the runs, so the
broker's JIT has compiled its request path, as in a broker that has been running.

    .venv/bin/python benchmarks/runtime.py [--events 400000] [--runs 3] [--seconds 10]

The last line printed is one JSON object of the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from confluent_kafka import Consumer, Producer

from platform_streams.demo.passthrough import PassThroughDaemon, PassThroughSettings
from platform_streams.embedded.kafka_broker import EmbeddedKafka
from platform_streams.embedded.paths import kafka_libs_dir
from platform_streams.embedded.processes import free_port
from platform_streams.kafka_clients import ProducerProfile, consumer_settings, producer_settings
from platform_streams.schemas import Side, Trade, encode
from platform_streams.topics import TopicSpec, ensure_topics

EVENT_BYTES = 150
PARTITIONS = 12


def event_bytes(i: int, now_ns: int) -> tuple[str, bytes]:
    """A canonical trade padded (through its trade id) to exactly 150 encoded bytes."""
    symbol = f"SYM{i % 500}/USDT"
    width = 0
    for _ in range(4):  # msgpack's length prefix grows with the string: converge on the width
        trade = Trade(
            "bench", symbol, now_ns, now_ns, i, str(i).rjust(width, "0"), Side.BUY, 6_512_345 + i % 100, 100 + i % 7, 2, 8
        )
        payload = encode(trade)
        if len(payload) == EVENT_BYTES:
            return trade.key, payload
        width += EVENT_BYTES - len(payload)
    raise ValueError(f"event {i} cannot be padded to {EVENT_BYTES} bytes")


def create_topics(bootstrap: str, *names: str) -> None:
    ensure_topics(
        bootstrap, specs=[TopicSpec(n, "exchange:symbol", "Trade", ProducerProfile.LATENCY, partitions=PARTITIONS) for n in names]
    )


def preload(bootstrap: str, topic: str, events: int) -> None:
    producer = Producer(producer_settings(bootstrap, ProducerProfile.BULK))
    now = time.time_ns()
    for i in range(events):
        key, payload = event_bytes(i, now)
        while True:
            try:
                producer.produce(topic, payload, key)
                break
            except BufferError:
                producer.poll(0.05)
    assert producer.flush(120) == 0


def metric(port: int, name: str) -> float:
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    for line in body.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def run_throughput(bootstrap: str, events: int, run: int) -> float:
    source, sink = f"bench.tp.in.{run}.{time.time_ns()}", f"bench.tp.out.{run}.{time.time_ns()}"
    create_topics(bootstrap, source, sink)
    preload(bootstrap, source, events)
    port = free_port()
    values = {
        "name": "bench-passthrough",
        "inputs": [source],
        "output": sink,
        "metrics_port": port,
        "group": f"tp-{run}-{time.time_ns()}",
    }
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "TRADEPLAT_LOG_LEVEL": "WARNING"}
    daemon = subprocess.Popen(
        [sys.executable, "-m", "platform_streams.cli.main", "daemon", "passthrough", "--values-json", json.dumps(values)], env=env
    )
    try:
        first_in = last_out_at = None
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                consumed = metric(port, "platform_runtime_messages_in_total")
                produced = metric(port, "platform_runtime_messages_out_total")
            except OSError:
                time.sleep(0.05)
                continue
            now = time.monotonic()
            if first_in is None and consumed > 0:
                first_in = (now, consumed)
            if produced >= events:
                last_out_at = now
                break
            time.sleep(0.02)
        if first_in is None or last_out_at is None:
            raise RuntimeError("the daemon did not drain the backlog in time")
        # events counted from the first sample that saw consumption
        return (events - first_in[1]) / (last_out_at - first_in[0])
    finally:
        daemon.terminate()
        daemon.wait(timeout=60)


def steady_producer_process(bootstrap: str, topic: str, rate: float, seconds: float) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--role",
            "producer",
            "--bootstrap",
            bootstrap,
            "--topic",
            topic,
            "--rate",
            str(rate),
            "--seconds",
            str(seconds),
        ]
    )


def produce_steadily(bootstrap: str, topic: str, rate: float, seconds: float) -> None:
    """Role of a child process: events stamped with their produce time, at a steady rate."""
    producer = Producer(producer_settings(bootstrap, ProducerProfile.LATENCY))
    total = int(rate * seconds)
    started = time.monotonic()
    for i in range(total):
        key, payload = event_bytes(i, time.time_ns())
        producer.produce(topic, payload, key, timestamp=0)
        producer.poll(0)
        ahead = (i + 1) / rate - (time.monotonic() - started)
        if ahead > 0.0005:
            time.sleep(ahead)
    producer.flush(60)


def run_hop_latency(bootstrap: str, rate: float, seconds: float, run: int) -> list[float]:
    from platform_streams.schemas import TypedDecoder

    topic = f"bench.hop.{run}.{time.time_ns()}"
    create_topics(bootstrap, topic)
    consumer = Consumer(consumer_settings(bootstrap, f"hop-{time.time_ns()}", **{"auto.offset.reset": "latest"}))
    consumer.subscribe([topic])
    while not consumer.assignment():
        consumer.poll(0.1)
    decoder = TypedDecoder(Trade)
    producer = steady_producer_process(bootstrap, topic, rate, seconds)
    latencies: list[float] = []
    expected = int(rate * seconds)
    deadline = time.monotonic() + seconds + 60
    while len(latencies) < expected and time.monotonic() < deadline:
        message = consumer.poll(0.5)
        if message is None or message.error() is not None:
            continue
        received = time.time_ns()
        latencies.append((received - decoder.decode(message.value()).exchange_ts_ns) / 1e6)
    producer.wait(timeout=60)
    consumer.close()
    return latencies[int(rate) :]  # drop the first second (connection warm-up)


def run_overhead(bootstrap: str, rate: float, seconds: float, run: int) -> list[float]:
    source, sink = f"bench.ovh.in.{run}.{time.time_ns()}", f"bench.ovh.out.{run}.{time.time_ns()}"
    create_topics(bootstrap, source, sink)
    settings = PassThroughSettings(
        name="bench-overhead", inputs=[source], output=sink, bootstrap_servers=bootstrap, metrics_port=-1,
        group=f"ovh-{time.time_ns()}",
    )  # fmt: skip
    daemon = PassThroughDaemon(settings)
    per_event: list[float] = []
    daemon.batch_observer = lambda n, consumed_ns, handed_ns: per_event.extend([(handed_ns - consumed_ns) / 1e6] * n)
    thread = threading.Thread(target=daemon.run, daemon=True)
    thread.start()
    while not daemon._assigned:  # noqa: SLF001 — wait for the group join before producing
        time.sleep(0.05)
    producer = steady_producer_process(bootstrap, source, rate, seconds)
    producer.wait(timeout=seconds + 60)
    deadline = time.monotonic() + 30
    while daemon.messages_in < int(rate * seconds) and time.monotonic() < deadline:
        time.sleep(0.05)
    daemon.stop()
    thread.join(timeout=60)
    return per_event[int(rate) :]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(name: str, values: list[float], unit: str) -> float:
    median = statistics.median(values)
    print(
        f"{name:<18} median {median:10.3f} {unit}   (min {min(values):.3f}, max {max(values):.3f}, runs {len(values)})",
        flush=True,
    )
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=400_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rate", type=float, default=5_000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warmup-seconds", type=float, default=10)
    parser.add_argument("--role", choices=["bench", "producer"], default="bench")
    parser.add_argument("--bootstrap")
    parser.add_argument("--topic")
    args = parser.parse_args()
    if args.role == "producer":
        produce_steadily(args.bootstrap, args.topic, args.rate, args.seconds)
        return

    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    broker = None
    with tempfile.TemporaryDirectory(prefix="bench-kafka-") as home:
        if external:
            bootstrap = external
        else:
            broker = EmbeddedKafka(Path(home), kafka_libs_dir())
            bootstrap = broker.start()
        try:
            print(
                f"broker {bootstrap} ({'external' if external else 'embedded Apache Kafka'}), {EVENT_BYTES}-byte events",
                flush=True,
            )
            ensure_topics(bootstrap)  # the registry (heartbeats, dead letters) as in a deployment
            # a production broker is warm: let the JIT compile the request path before measuring
            warm = run_hop_latency(bootstrap, args.rate, args.warmup_seconds, -1)
            print(f"  warm-up: {len(warm)} events over {args.warmup_seconds:.0f}s (not counted)", flush=True)
            throughputs, overheads, hop50, hop99 = [], [], [], []
            for run in range(args.runs):
                throughputs.append(run_throughput(bootstrap, args.events, run))
                print(f"  run {run}: throughput {throughputs[-1]:,.0f} events/s", flush=True)
                per_event = run_overhead(bootstrap, args.rate, args.seconds, run)
                overheads.append(percentile(per_event, 0.99))
                hops = run_hop_latency(bootstrap, args.rate, args.seconds, run)
                hop50.append(percentile(hops, 0.50))
                hop99.append(percentile(hops, 0.99))
                print(
                    f"  run {run}: overhead p99 {overheads[-1]:.3f} ms over {len(per_event)} events; "
                    f"hop p50 {hop50[-1]:.2f} ms p99 {hop99[-1]:.2f} ms over {len(hops)} events",
                    flush=True,
                )
            rss_mb = broker.rss_bytes() / 2**20 if broker else None
            results = {
                "throughput_eps": round(summary("throughput_eps", throughputs, "events/s")),
                "overhead_p99_ms": round(summary("overhead_p99_ms", overheads, "ms"), 4),
                "hop_p50_ms": round(summary("hop_p50_ms", hop50, "ms"), 3),
                "hop_p99_ms": round(summary("hop_p99_ms", hop99, "ms"), 3),
                "broker_rss_mb": round(rss_mb, 1) if rss_mb is not None else None,
            }
            print(f"broker_rss_mb      {results['broker_rss_mb']}")
        finally:
            if broker is not None:
                broker.stop()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
