"""Benchmark of the stream runtime on the embedded Kafka with 150-byte events.

Measures, each over several runs (medians printed with min and max):
- throughput_eps: events/s through one pass-through daemon process (validating
  every event), draining a pre-loaded backlog;
- overhead_p99_ms: the runtime's own time per event at 5,000 events/s — from the
  client handing a batch to the runtime to the event's output being handed to the
  producer (every event of a batch is charged the whole batch's time);
- hop latency: one hop produce → consume at 5,000 events/s with the runtime's
  latency producer and ``tick`` consumer settings (``--consumer-profile``: a strategy host
  reading market data; ``latency`` for the low-rate trading topics' consumers), producer and
  consumer each in a process of its own. Each run prints p50/p99/p99.9/max and what the machine and the broker did
  meanwhile (:mod:`hop_diagnostics`: the broker's stop-the-world pauses from its GC log
  and how many slow events they explain, its JIT/GC/request threads' CPU, machine
  busy and steal, dirty page cache). A tail target holds in every run, so
  ``hop_p99_ms`` and ``hop_p999_ms`` are the worst run's (the medians are printed too);
- broker_rss_mb: the broker's resident memory at the end.

Each run's hop follows a throughput run, as a busy broker's would. Before the runs, a
warm-up (one throughput run, then ``--warmup-seconds`` at the latency rate) lets the
broker's JIT compile the request paths both take, as in a broker that has been running.

    .venv/bin/python benchmarks/runtime.py [--events 400000] [--runs 3] [--seconds 10]
        [--consumer-profile tick|latency] [--producer-set k=v] [--consumer-set k=v] [--broker-set k=v]

The ``--*-set`` options try a client or broker setting without editing code (each repeatable).

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
from typing import Any

from confluent_kafka import Consumer, Producer
from hop_diagnostics import WindowProbe, WindowReading

from platform_streams.demo.passthrough import PassThroughDaemon, PassThroughSettings
from platform_streams.embedded.kafka_broker import EmbeddedKafka
from platform_streams.embedded.paths import kafka_libs_dir
from platform_streams.embedded.processes import free_port
from platform_streams.kafka_clients import ConsumerProfile, ProducerProfile, consumer_settings, producer_settings
from platform_streams.schemas import Side, Trade, encode
from platform_streams.topics import TopicSpec, ensure_topics

EVENT_BYTES = 150
PARTITIONS = 12


class StampedTrades:
    """Canonical trades of 500 symbols, each encoded to exactly ``EVENT_BYTES`` by padding its trade id.

    The padding that fit the last event is tried first, so an event costs one encode (the width
    changes only when the id's or sequence's encoded length does)."""

    def __init__(self) -> None:
        self._symbols = [f"SYM{i}/USDT" for i in range(500)]
        self._width = 0

    def event(self, i: int, now_ns: int) -> tuple[str, bytes]:
        for _ in range(4):  # msgpack's length prefix grows with the string: converge on the width
            trade = Trade(
                "bench", self._symbols[i % 500], now_ns, now_ns, i, str(i).rjust(self._width, "0"), Side.BUY,
                6_512_345 + i % 100, 100 + i % 7, 2, 8,
            )  # fmt: skip
            payload = encode(trade)
            if len(payload) == EVENT_BYTES:
                return trade.key, payload
            self._width += EVENT_BYTES - len(payload)
        raise ValueError(f"event {i} cannot be padded to {EVENT_BYTES} bytes")


def create_topics(bootstrap: str, *names: str) -> None:
    ensure_topics(
        bootstrap, specs=[TopicSpec(n, "exchange:symbol", "Trade", ProducerProfile.LATENCY, partitions=PARTITIONS) for n in names]
    )


def preload(bootstrap: str, topic: str, events: int) -> None:
    producer = Producer(producer_settings(bootstrap, ProducerProfile.BULK))
    now = time.time_ns()
    events_of = StampedTrades()
    for i in range(events):
        key, payload = events_of.event(i, now)
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


CLIENT_OVERRIDES: dict[str, list[str]] = {"producer": [], "consumer": [], "profile": [ConsumerProfile.TICK.value]}
"""``--producer-set`` / ``--consumer-set`` / ``--consumer-profile`` options, handed to the role processes
(the measured clients)."""


def overrides(pairs: list[str]) -> dict[str, str]:
    """``key=value`` options as a settings mapping."""
    parsed = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"expected key=value, got {pair!r}")
        parsed[key] = value
    return parsed


def _role_options() -> list[str]:
    return [
        f"--consumer-profile={CLIENT_OVERRIDES['profile'][0]}",
        *(f"--producer-set={p}" for p in CLIENT_OVERRIDES["producer"]),
        *(f"--consumer-set={p}" for p in CLIENT_OVERRIDES["consumer"]),
    ]


def steady_producer_process(bootstrap: str, topic: str, rate: float, seconds: float) -> subprocess.Popen:
    return _role_process("producer", bootstrap, topic, "--rate", str(rate), "--seconds", str(seconds))


def _role_process(role: str, bootstrap: str, topic: str, *args: str, **popen: Any) -> subprocess.Popen:
    """This script in another process, in one of its roles (each measured party gets a process of its
    own, so no thread or client left over from an earlier step shares its interpreter)."""
    return subprocess.Popen(
        [sys.executable, __file__, "--role", role, "--bootstrap", bootstrap, "--topic", topic, *_role_options(), *args], **popen
    )


def produce_steadily(bootstrap: str, topic: str, rate: float, seconds: float) -> None:
    """Role of a child process: events stamped with their produce time, at a steady rate.

    One encode per event (:class:`StampedTrades`), so the producer's CPU is mostly the client's."""
    producer = Producer({**producer_settings(bootstrap, ProducerProfile.LATENCY), **overrides(CLIENT_OVERRIDES["producer"])})
    events_of = StampedTrades()
    total = int(rate * seconds)
    started = time.monotonic()
    for i in range(total):
        key, payload = events_of.event(i, time.time_ns())
        producer.produce(topic, payload, key, timestamp=0)
        producer.poll(0)
        ahead = (i + 1) / rate - (time.monotonic() - started)
        if ahead > 0.0005:
            time.sleep(ahead)
    producer.flush(60)


def consume_hop(bootstrap: str, topic: str, expected: int, seconds: float, profile: str) -> None:
    """Role of a child process: join, say ``ready``, then print each event's produce → receive latency (ms)."""
    from platform_streams.schemas import TypedDecoder

    consumer = Consumer(
        consumer_settings(
            bootstrap, f"hop-{time.time_ns()}", **{"auto.offset.reset": "latest", **overrides(CLIENT_OVERRIDES["consumer"])}
        )
    )
    consumer.subscribe([topic])
    while not consumer.assignment():
        consumer.poll(0.1)
    print("ready", flush=True)
    decoder = TypedDecoder(Trade)
    received: list[tuple[int, int]] = []
    deadline = time.monotonic() + seconds + 60
    while len(received) < expected and time.monotonic() < deadline:
        message = consumer.poll(0.5)
        if message is None or message.error() is not None:
            continue
        received.append((decoder.decode(message.value()).exchange_ts_ns, time.time_ns()))
    consumer.close()
    sys.stdout.write(json.dumps(received))
    sys.stdout.flush()


class HopRun:
    """One hop measurement: latencies (ms) in produce order and what the machine did meanwhile."""

    def __init__(self, produced_at_s: list[float], latencies_ms: list[float], reading: WindowReading) -> None:
        self.produced_at_s = produced_at_s
        self.latencies_ms = latencies_ms
        self.reading = reading

    def percentile(self, q: float) -> float:
        return percentile(self.latencies_ms, q)

    def slow_during_pauses(self, threshold_ms: float) -> tuple[int, int]:
        """Events slower than ``threshold_ms``, and how many of those were in flight during a broker pause."""
        slow = during = 0
        pauses = self.reading.pauses
        for produced, latency in zip(self.produced_at_s, self.latencies_ms, strict=True):
            if latency <= threshold_ms:
                continue
            slow += 1
            received = produced + latency / 1e3
            if any(p.start_s <= received and p.start_s + p.seconds >= produced for p in pauses):
                during += 1
        return slow, during

    def describe(self) -> str:
        slow, during = self.slow_during_pauses(5.0)
        return (
            f"hop p50 {self.percentile(0.5):.2f} p99 {self.percentile(0.99):.2f} p99.9 {self.percentile(0.999):.2f} "
            f"max {max(self.latencies_ms):.1f} ms over {len(self.latencies_ms)} events; over 5 ms: {slow} "
            f"({slow / len(self.latencies_ms) * 100:.2f}%), {during} of them across a broker pause\n"
            f"         {self.reading.describe()}"
        )


def run_hop_latency(bootstrap: str, rate: float, seconds: float, run: int, broker: EmbeddedKafka | None) -> HopRun:
    topic = f"bench.hop.{run}.{time.time_ns()}"
    create_topics(bootstrap, topic)
    expected = int(rate * seconds)
    consumer = _role_process("hop-consumer", bootstrap, topic, "--events", str(expected), "--seconds", str(seconds),
                             stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert consumer.stdout is not None
    if consumer.stdout.readline().strip() != "ready":
        raise RuntimeError("the hop consumer did not join its group")
    probe = WindowProbe(broker.pid if broker else None, broker.gc_log if broker else None)
    producer = steady_producer_process(bootstrap, topic, rate, seconds)
    while producer.poll() is None:
        probe.sample()
        time.sleep(0.1)
    output, _ = consumer.communicate(timeout=90)
    reading = probe.finish()
    pairs = json.loads(output)[int(rate) :]  # drop the first second (connection warm-up)
    return HopRun([sent / 1e9 for sent, _ in pairs], [(got - sent) / 1e6 for sent, got in pairs], reading)


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


def warm_up(bootstrap: str, args: argparse.Namespace, broker: EmbeddedKafka | None) -> None:
    """A production broker has been running: its JIT has compiled the request paths the runs take.
    One throughput run, then the latency rate for ``--warmup-seconds``, none of it counted."""
    started = time.monotonic()
    run_throughput(bootstrap, args.events, -1)
    warm = run_hop_latency(bootstrap, args.rate, args.warmup_seconds, -1, broker)
    print(
        f"  warm-up: a throughput run, then {len(warm.latencies_ms)} events at {args.rate:.0f}/s "
        f"({time.monotonic() - started:.0f}s, not counted; its hop p99 was {warm.percentile(0.99):.1f} ms)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=400_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rate", type=float, default=5_000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warmup-seconds", type=float, default=30)
    parser.add_argument("--role", choices=["bench", "producer", "hop-consumer"], default="bench")
    parser.add_argument("--bootstrap")
    parser.add_argument("--topic")
    parser.add_argument(
        "--consumer-profile", choices=[p.value for p in ConsumerProfile], default=ConsumerProfile.TICK.value,
        help="the hop consumer's profile (kafka_clients.py): tick, as a strategy host reads market data, by default",
    )  # fmt: skip
    parser.add_argument(
        "--producer-set", action="append", default=[], metavar="KEY=VALUE", help="librdkafka option of the hop's producer"
    )
    parser.add_argument(
        "--consumer-set", action="append", default=[], metavar="KEY=VALUE", help="librdkafka option of the hop's consumer"
    )
    parser.add_argument(
        "--broker-set", action="append", default=[], metavar="KEY=VALUE", help="server.properties entry of the embedded broker"
    )
    args = parser.parse_args()
    CLIENT_OVERRIDES["producer"], CLIENT_OVERRIDES["consumer"] = args.producer_set, args.consumer_set
    CLIENT_OVERRIDES["profile"] = [args.consumer_profile]
    if args.role == "producer":
        produce_steadily(args.bootstrap, args.topic, args.rate, args.seconds)
        return
    if args.role == "hop-consumer":
        consume_hop(args.bootstrap, args.topic, args.events, args.seconds, args.consumer_profile)
        return

    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    broker = None
    with tempfile.TemporaryDirectory(prefix="bench-kafka-") as home:
        if external:
            bootstrap = external
        else:
            broker = EmbeddedKafka(Path(home), kafka_libs_dir(), properties=overrides(args.broker_set))
            bootstrap = broker.start()
        try:
            print(
                f"broker {bootstrap} ({'external' if external else 'embedded Apache Kafka'}), {EVENT_BYTES}-byte events"
                + f"; hop consumer profile {args.consumer_profile}"
                + "".join(
                    f"; {name} {pairs}"
                    for name, pairs in (
                        ("broker", args.broker_set),
                        ("producer", args.producer_set),
                        ("consumer", args.consumer_set),
                    )
                    if pairs
                ),
                flush=True,
            )
            ensure_topics(bootstrap)  # the registry (heartbeats, dead letters) as in a deployment
            warm_up(bootstrap, args, broker)
            throughputs, overheads, hops = [], [], []
            for run in range(args.runs):
                throughputs.append(run_throughput(bootstrap, args.events, run))
                print(f"  run {run}: throughput {throughputs[-1]:,.0f} events/s", flush=True)
                per_event = run_overhead(bootstrap, args.rate, args.seconds, run)
                overheads.append(percentile(per_event, 0.99))
                print(f"  run {run}: overhead p99 {overheads[-1]:.3f} ms over {len(per_event)} events", flush=True)
                hops.append(run_hop_latency(bootstrap, args.rate, args.seconds, run, broker))
                print(f"  run {run}: {hops[-1].describe()}", flush=True)
            rss_mb = broker.rss_bytes() / 2**20 if broker else None
            hop99 = [hop.percentile(0.99) for hop in hops]
            hop999 = [hop.percentile(0.999) for hop in hops]
            results = {
                "throughput_eps": round(summary("throughput_eps", throughputs, "events/s")),
                "overhead_p99_ms": round(summary("overhead_p99_ms", overheads, "ms"), 4),
                "hop_p50_ms": round(summary("hop_p50_ms", [hop.percentile(0.5) for hop in hops], "ms"), 3),
                "hop_p99_ms_median": round(summary("hop_p99_ms", hop99, "ms"), 3),
                "hop_p99_ms": round(max(hop99), 3),  # the worst run: a tail target holds in every run
                "hop_p999_ms_median": round(summary("hop_p999_ms", hop999, "ms"), 3),
                "hop_p999_ms": round(max(hop999), 3),
                "hop_max_ms": round(max(max(hop.latencies_ms) for hop in hops), 3),
                "broker_rss_mb": round(rss_mb, 1) if rss_mb is not None else None,
            }
            print(f"hop_p99_ms (worst run) {results['hop_p99_ms']}   hop_p999_ms (worst run) {results['hop_p999_ms']}")
            print(f"broker_rss_mb      {results['broker_rss_mb']}")
        finally:
            if broker is not None:
                broker.stop()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
