"""Part (b) of the market-data benchmark: the whole path at 3 exchanges × N instruments on this machine.

The exchange simulator (``tradeplat simulate``, its own process, real time), ingestion for
each exchange (Binance in two shards: its 1,024-stream limit per connection), the
normalisers and the PostgreSQL sink run as the deployment runs them: under the supervisor,
against an embedded Kafka and PostgreSQL started for the run. After a warm-up (every book
subscribed and snapshotted), the figures come from the daemons' own Prometheus metrics
over a measurement window:

- ``events_per_second``: canonical events the normalisers produced per second (trades,
  book snapshots and deltas, top of book), and the raw frames they consumed;
- lag: the normalisers' consumer lag on ``md.raw`` sampled through the window (bounded:
  it ends about where it started rather than growing);
- latency: ``platform_normalisation_receive_to_produce_seconds``, from a frame's receipt by
  ingestion (its receive timestamp) to its canonical events being handed to the producer;
  p50/p99 interpolated within the histogram's buckets, over the window only;
- CPU: what every process on the machine used over the window (user + system time from
  ``/proc``), per raw frame, by part: Kafka, PostgreSQL, the simulator, each daemon, and
  ``other`` (anything else running on the machine: if it is large, the figures are not
  of this pipeline alone).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
EXCHANGES = ("binance", "okx", "kraken")
_LATENCY = "platform_normalisation_receive_to_produce_seconds"


@dataclass(frozen=True)
class PipelineFigures:
    events_per_second: float
    frames_per_second: float
    p50_ms: float
    p99_ms: float
    lag_start: int
    lag_end: int
    lag_max: int
    stored_trades_per_second: float
    window_s: float
    cpu_us_per_frame: dict[str, float]
    """CPU time (user + system) each part of the machine spent per raw frame over the window."""


Samples = dict[str, list[tuple[dict[str, str], float]]]
"""One scrape of the normalisers' metrics: sample name → (labels, value) of each normaliser."""


def _scrape(ports: list[int]) -> Samples:
    from prometheus_client.parser import text_string_to_metric_families

    samples: Samples = {}
    for port in ports:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    return samples


def _sum(samples: Samples, name: str) -> float:
    return sum(value for _, value in samples.get(name, []))


def _buckets(samples: Samples) -> dict[float, float]:
    """Cumulative counts per upper bound of the latency histogram, summed over the normalisers."""
    counts: dict[float, float] = {}
    for labels, value in samples.get(f"{_LATENCY}_bucket", []):
        bound = float(labels["le"])  # "+Inf" parses as inf
        counts[bound] = counts.get(bound, 0.0) + value
    return counts


def _quantile(start: dict[float, float], end: dict[float, float], q: float) -> float:
    """The q-quantile (seconds) of the observations between two cumulative histograms."""
    bounds = sorted(end)
    delta = [end[b] - start.get(b, 0.0) for b in bounds]
    total = delta[-1]
    if total <= 0:
        return float("nan")
    target, previous_bound, previous_count = q * total, 0.0, 0.0
    for bound, count in zip(bounds, delta, strict=True):
        if count >= target:
            if bound == float("inf"):
                return previous_bound
            share = (target - previous_count) / (count - previous_count) if count > previous_count else 1.0
            return previous_bound + share * (bound - previous_bound)
        previous_bound, previous_count = bound, count
    return previous_bound


def _cpu_seconds() -> dict[int, tuple[str, float]]:
    """Every process's command line and the CPU seconds it has used so far."""
    tick = os.sysconf("SC_CLK_TCK")
    found: dict[int, tuple[str, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        found[int(entry.name)] = (command, (int(fields[11]) + int(fields[12])) / tick)
    return found


def _component(pid: int, command: str, replicas: dict[int, str]) -> str:
    if pid in replicas:
        return replicas[pid]
    if "kafka.Kafka" in command or "kafka" in command and "java" in command:
        return "kafka"
    if "postgres" in command:
        return "postgres"
    if " simulate " in command:
        return "simulator"
    if pid == os.getpid():
        return "benchmark+supervisor"
    return "other"


def _cpu_by_component(
    start: dict[int, tuple[str, float]], end: dict[int, tuple[str, float]], replicas: dict[int, str]
) -> dict[str, float]:
    used: dict[str, float] = {}
    for pid, (command, seconds) in end.items():
        before = start.get(pid, (command, 0.0))[1]
        name = _component(pid, command, replicas)
        used[name] = used.get(name, 0.0) + seconds - before
    return used


def ingestion_daemons(ports: dict[str, int], instruments: int, budget: Path, binance_replicas: int = 2) -> list[dict[str, Any]]:
    """The host's request budget and one ingestion per simulated exchange (Binance in ``binance_replicas``
    shards: its 1,024 streams per connection), as the benchmarks deploy them."""
    daemons: list[dict[str, Any]] = [
        {"name": "snapshot-budget", "kind": "snapshot-budget", "restart": "always",
         "config": {"exchanges": list(EXCHANGES), "socket": str(budget), "heartbeat_interval_s": 2}},
    ]  # fmt: skip
    for exchange in EXCHANGES:
        base = f"http://127.0.0.1:{ports[exchange]}"
        daemons.append({
            "name": f"ingest-{exchange}", "kind": "ingestion", "restart": "always",
            "replicas": binance_replicas if exchange == "binance" else 1,
            "config": {"exchange": exchange, "rest_url": base, "ws_url": base.replace("http", "ws"),
                       "max_instruments": instruments, "heartbeat_interval_s": 2, "budget_socket": str(budget)},
        })  # fmt: skip
    return daemons


def _deployment(ports: dict[str, int], database_url: str, instruments: int, normalisers: int, budget: Path) -> dict[str, Any]:
    from platform_streams.topics import BBO_TOPIC, TRADE_TOPIC

    daemons = ingestion_daemons(ports, instruments, budget)
    if normalisers:
        daemons.append({
            "name": "normaliser", "kind": "normaliser", "replicas": normalisers, "restart": "always",
            "config": {"heartbeat_interval_s": 2},
        })  # fmt: skip
    else:  # the normaliser chained into each ingestion
        for daemon in daemons:
            if daemon["kind"] == "ingestion":
                daemon["config"]["normalise"] = True
    daemons.append({
        "name": "sink", "kind": "postgres-sink", "restart": "always",
        "config": {"inputs": [TRADE_TOPIC, BBO_TOPIC], "database_url": database_url, "heartbeat_interval_s": 2},
    })  # fmt: skip
    return {"name": "bench-market-data", "daemons": daemons}


def measure_pipeline(instruments: int, rate: float, warmup_s: float, window_s: float, normalisers: int = 2) -> PipelineFigures:
    """Runs the whole path and measures it; every process it starts is stopped before it returns.
    ``normalisers`` 0 chains the normaliser into each ingestion instead of running normaliser daemons."""
    import asyncio

    import asyncpg

    from platform_streams.database.migrate import migrate
    from platform_streams.embedded.kafka_broker import EmbeddedKafka
    from platform_streams.embedded.paths import kafka_libs_dir
    from platform_streams.embedded.postgres import EmbeddedPostgres
    from platform_streams.embedded.processes import free_port
    from platform_streams.supervisor.process_supervisor import Supervisor
    from platform_streams.supervisor.spec import parse_spec
    from platform_streams.topics import ensure_topics

    os.sched_setaffinity(0, range(os.cpu_count() or 1))  # part (a) pinned this process; the pipeline gets the machine
    state = Path(tempfile.mkdtemp(prefix="bench-market-data-"))
    kafka = EmbeddedKafka(state / "kafka", kafka_libs_dir())
    postgres = EmbeddedPostgres(state / "pg")
    simulator: subprocess.Popen[bytes] | None = None
    supervisor: Supervisor | None = None
    keep_state = False  # kept only when a run failed, for its logs
    try:
        bootstrap = kafka.start()
        ensure_topics(bootstrap, default_partitions=6)
        database_url = postgres.start()
        migrate(database_url)
        ports = {exchange: free_port() for exchange in EXCHANGES}
        command = [sys.executable, "-m", "platform_streams.cli.main", "simulate", "--exchanges", ",".join(EXCHANGES),
                   "--instruments", str(instruments), "--rate", str(rate), "--seed", "7",
                   *(f"--port={e}={p}" for e, p in ports.items())]  # fmt: skip
        simulator = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=open(state / "simulator.log", "wb"))
        spec = parse_spec(_deployment(ports, database_url, instruments, normalisers, state / "budget.sock"))
        supervisor = Supervisor(spec, {"KAFKA_BOOTSTRAP_SERVERS": bootstrap}, state / "supervisor")
        supervisor.start()
        print(f"pipeline: 3 x {instruments:,} instruments at {rate:g} order-flow events/s; warming up {warmup_s:g} s", flush=True)
        _run(supervisor, warmup_s)
        normalising = "normaliser" if normalisers else "ingestion"  # the kind whose processes normalise
        normaliser_ports = [r.metrics_port for r in supervisor.status().replicas if r.kind == normalising]

        def scrape_all() -> Samples:
            return _scrape([port for port in normaliser_ports if port])

        def stored() -> int:
            async def count() -> int:
                connection = await asyncpg.connect(database_url)
                try:
                    return int(await connection.fetchval("SELECT count(*) FROM trades"))
                finally:
                    await connection.close()

            return asyncio.run(count())

        def lag() -> int:
            return sum(r.lag or 0 for r in supervisor.status().replicas if r.name == "normaliser")

        replicas = {r.pid: r.name for r in supervisor.status().replicas if r.pid}
        first, first_stored, started, cpu_start = scrape_all(), stored(), time.monotonic(), _cpu_seconds()
        lags = [lag()]
        while time.monotonic() - started < window_s:
            _run(supervisor, 2.0)
            lags.append(lag())
        last, last_stored, elapsed, cpu_end = scrape_all(), stored(), time.monotonic() - started, _cpu_seconds()
        restarts = sum(r.restarts for r in supervisor.status().replicas)
        if restarts:
            raise RuntimeError(f"{restarts} daemon restarts during the run: see the logs under {state}")
        start_buckets, end_buckets = _buckets(first), _buckets(last)
        frames = _sum(last, "platform_runtime_messages_in_total") - _sum(first, "platform_runtime_messages_in_total")
        cpu = _cpu_by_component(cpu_start, cpu_end, replicas)
        return PipelineFigures(
            events_per_second=(
                _sum(last, "platform_runtime_messages_out_total") - _sum(first, "platform_runtime_messages_out_total")
            )
            / elapsed,
            frames_per_second=frames / elapsed,
            p50_ms=_quantile(start_buckets, end_buckets, 0.50) * 1000,
            p99_ms=_quantile(start_buckets, end_buckets, 0.99) * 1000,
            lag_start=lags[0],
            lag_end=lags[-1],
            lag_max=max(lags),
            stored_trades_per_second=(last_stored - first_stored) / elapsed,
            window_s=elapsed,
            cpu_us_per_frame={name: round(seconds * 1e6 / max(frames, 1), 1) for name, seconds in sorted(cpu.items())},
        )
    except BaseException:
        keep_state = True
        raise
    finally:
        if supervisor is not None:
            supervisor.stop()
        if simulator is not None:
            simulator.terminate()
            try:
                simulator.wait(20)
            except subprocess.TimeoutExpired:
                simulator.kill()
        postgres.stop()
        kafka.stop()
        if not keep_state:
            shutil.rmtree(state, ignore_errors=True)  # the broker's log and the database: about 1 GB a run


def _run(supervisor: Any, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        supervisor.tick()
        time.sleep(0.2)
