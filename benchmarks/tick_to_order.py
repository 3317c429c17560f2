"""Tick-to-order benchmark: the exchange simulator → the whole trading path → orders at the simulator.

The simulator (3 exchanges × ``--instruments``, ``--rate`` order-flow events/s, its own process),
ingestion with the normaliser chained in (``--normalisers N``: N normaliser daemons on ``md.raw``
instead), processing (1 s candles of the bar strategies' instruments), the
``trading-chain`` (``--strategies`` deployments of the four strategies, risk chained in) and one
execution daemon per exchange run under the supervisor against an embedded Kafka and PostgreSQL,
as a deployment runs them. Binance and OKX trade live against the simulator; Kraken on paper
(its private-call rate counter would pace the orders), so its orders never reach the simulator and are
not in the tick-to-order figures.

Per order, from its stored trace (``orders.hops``, ``market_receive_ts_ns``) and the simulator's
ground truth (the order's arrival; the emission of the last message of the symbol the order
reacted to before the platform received it), on one clock: end to end = arrival − emit; broker
time = the waits between stages; platform time = end to end − broker time. Orders caused by a
candle (which closes on the clock, not on an emitted message) are left out.

``max_eps``: the order-flow rate is stepped up over the simulator's control API (``--max-eps-rates``)
with the trading path on; the highest step whose consumers' lag stayed bounded (ended below
``--lag-bound`` records) is reported. ``rss_mb_per_strategy``: the chain's RSS minus that of a
chain with no deployments reading the same data during the warm-up, over the deployments.

Last line: ``{"platform_p50_ms", "platform_p99_ms", "p50_ms", "p99_ms", "p999_ms", "broker_hop_ms",
"throughput_eps", "max_eps", "strategies", "rss_mb_per_strategy"}``, each the median over runs.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from tick_to_order_deployment import EXCHANGES, deployment_spec, simulator_config  # noqa: E402
from tick_to_order_trace import (  # noqa: E402
    MARKET_CAUSES,
    OrderLatency,
    RunFigures,
    StoredOrder,
    cause_of,
    order_latency,
    run_figures,
    segment_quantiles,
)

_ORDERS_SQL = """
SELECT client_order_id, exchange, intent_id, hops::text AS hops, market_receive_ts_ns, sent_ts_ns
FROM orders WHERE sent_ts_ns BETWEEN $1 AND $2 AND market_receive_ts_ns > 0
"""
_LAGGING_KINDS = ("normaliser", "trading-chain", "execution")


def _http_json(url: str, body: Any = None, method: str = "GET") -> Any:
    data = None if body is None else json.dumps(body).encode()
    with urllib.request.urlopen(urllib.request.Request(url, data=data, method=method), timeout=30) as response:
        return json.loads(response.read())


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Stack:
    """The embedded broker and database, the simulator and the deployment; :meth:`close` stops all."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.state = Path(tempfile.mkdtemp(prefix="bench-tick-to-order-"))
        self.kafka: Any = None
        self.postgres: Any = None
        self.simulator: subprocess.Popen[bytes] | None = None
        self.baseline: subprocess.Popen[bytes] | None = None
        self.supervisor: Any = None
        self._watermarks: Any = None

    def start(self) -> None:
        from platform_streams.database.migrate import migrate
        from platform_streams.embedded.kafka_broker import EmbeddedKafka
        from platform_streams.embedded.paths import kafka_libs_dir
        from platform_streams.embedded.postgres import EmbeddedPostgres
        from platform_streams.embedded.processes import free_port
        from platform_streams.supervisor.process_supervisor import Supervisor
        from platform_streams.supervisor.spec import parse_spec
        from platform_streams.topics import ensure_topics

        args = self.args
        self.kafka = EmbeddedKafka(self.state / "kafka", kafka_libs_dir())
        self.bootstrap = self.kafka.start()
        self.postgres = EmbeddedPostgres(self.state / "pg")
        ensure_topics(self.bootstrap, default_partitions=args.partitions)
        self.database_url = self.postgres.start()
        migrate(self.database_url)
        ports = {exchange: free_port() for exchange in EXCHANGES}
        control_port = free_port()
        config_file = self.state / "simulator.json"  # JSON is YAML
        self.plan = deployment_spec(
            args.instruments, args.strategies, ports, self.database_url, self.state / "budget.sock", args.normalisers,
            args.canonical_profile,
        )  # fmt: skip
        config_file.write_text(json.dumps(simulator_config(control_port, self.plan.base_balances)))
        command = [sys.executable, "-m", "platform_streams.cli.main", "simulate", "--exchanges", ",".join(EXCHANGES),
                   "--instruments", str(args.instruments), "--rate", str(args.rate), "--seed", "7",
                   "--config", str(config_file), *(f"--port={e}={p}" for e, p in ports.items())]  # fmt: skip
        self.simulator = subprocess.Popen(
            command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=open(self.state / "simulator.log", "wb")
        )
        self.control = f"http://127.0.0.1:{control_port}/_control"
        self._wait(lambda: self._answers(f"{self.control}/urls"), 60, "the simulator's control API")
        self.supervisor = Supervisor(
            parse_spec(self.plan.spec), {"KAFKA_BOOTSTRAP_SERVERS": self.bootstrap}, self.state / "supervisor"
        )
        self.supervisor.start()

    @staticmethod
    def _answers(url: str) -> bool:
        try:
            _http_json(url)
            return True
        except OSError:
            return False

    def _wait(self, condition: Any, timeout_s: float, what: str) -> None:
        deadline = time.monotonic() + timeout_s
        while not condition():
            if time.monotonic() > deadline:
                raise RuntimeError(f"timed out after {timeout_s:g} s waiting for {what}; logs under {self.state}")
            if self.supervisor is None:
                time.sleep(0.5)
            else:
                self.tick(0.5)

    def tick(self, seconds: float) -> None:
        """Let the supervisor watch its daemons for ``seconds``."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.supervisor.tick()
            time.sleep(0.2)

    def replicas(self, kind: str | None = None) -> list[Any]:
        return [r for r in self.supervisor.status().replicas if kind is None or r.kind == kind]

    def lag(self) -> int:
        return sum(r.lag or 0 for r in self.replicas() if r.kind in _LAGGING_KINDS)

    def canonical_events(self) -> int:
        """Canonical events published so far (trades, book events, tops of book), from the broker's
        high watermarks: the same count whether normaliser daemons or chained normalisers made them."""
        from confluent_kafka import Consumer, TopicPartition

        from platform_streams.kafka_clients import consumer_settings
        from platform_streams.topics import BBO_TOPIC, BOOK_TOPIC, TRADE_TOPIC

        if self._watermarks is None:
            self._watermarks = Consumer(consumer_settings(self.bootstrap, "bench-watermarks"))
        total = 0
        for topic in (TRADE_TOPIC, BOOK_TOPIC, BBO_TOPIC):
            for partition in self._watermarks.list_topics(topic, timeout=10).topics[topic].partitions:
                total += self._watermarks.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)[1]
        return total

    def start_baseline_chain(self) -> None:
        """A chain with no deployments, reading what the real one reads: the RSS baseline."""
        values = {**self.plan.chain_config, "deployments": [], "name": "chain-baseline", "metrics_port": -1}
        command = [
            sys.executable,
            "-m",
            "platform_streams.cli.main",
            "daemon",
            "trading-chain",
            "--values-json",
            json.dumps(values),
        ]
        env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap}
        self.baseline = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=open(self.state / "baseline.log", "wb")
        )

    def stop_baseline_chain(self) -> float:
        assert self.baseline is not None
        rss = _rss_mb(self.baseline.pid)
        _stop(self.baseline)
        self.baseline = None
        return rss

    def set_rate(self, rate: float) -> None:
        _http_json(f"{self.control}/order_flow", {"rate": rate}, "PUT")

    def simulator_lag_s(self) -> float:
        """How far the simulator's time is behind real time now."""
        return float(_http_json(f"{self.control}/order_flow")["lag_s"])

    def close(self, keep_state: bool) -> None:
        """Stop everything started; the state (logs, the broker's and the database's data) is
        removed unless ``keep_state`` (a failed run keeps it to be read)."""
        if self.baseline is not None:
            _stop(self.baseline)
        if self._watermarks is not None:
            self._watermarks.close()
        if self.supervisor is not None:
            self.supervisor.stop()
        if self.simulator is not None:
            _stop(self.simulator)
        if self.postgres is not None:
            self.postgres.stop()
        if self.kafka is not None:
            self.kafka.stop()
        if not keep_state:
            shutil.rmtree(self.state, ignore_errors=True)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (a daemon stops cleanly), then SIGKILL if it is not gone within 30 s (a busy machine)."""
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def _stored_orders(database_url: str, start_ns: int, end_ns: int) -> list[StoredOrder]:
    import asyncio

    import asyncpg

    async def fetch() -> list[Any]:
        connection = await asyncpg.connect(database_url)
        try:
            return list(await connection.fetch(_ORDERS_SQL, start_ns, end_ns))
        finally:
            await connection.close()

    return [
        StoredOrder(
            row["client_order_id"],
            row["exchange"],
            row["intent_id"],
            [tuple(h) for h in json.loads(row["hops"])],
            row["market_receive_ts_ns"],
            row["sent_ts_ns"],
        )  # fmt: skip
        for row in asyncio.run(fetch())
    ]


def measure_window(stack: Stack, window_s: float) -> tuple[list[OrderLatency], float, int]:
    """One window's per-order latencies (orders that reached the simulator and reacted to an emitted
    message), the canonical events per second, and how many orders were left out."""
    start_ns, events_before, started = time.time_ns(), stack.canonical_events(), time.monotonic()
    stack.tick(window_s)
    end_ns, events_after, elapsed = time.time_ns(), stack.canonical_events(), time.monotonic() - started
    stack.tick(3.0)  # orders sent at the end of the window reach the simulator and the table
    orders = [o for o in _stored_orders(stack.database_url, start_ns, end_ns) if o.exchange in stack.plan.live_exchanges]
    arrivals: dict[str, int] = {}
    for arrival in _http_json(f"{stack.control}/ground_truth/orders")["orders"]:
        arrivals.setdefault(arrival["client_order_id"], arrival["arrival_ns"])
    traced, queries = [], []
    for order in orders:
        cause = cause_of(order.intent_id)
        if cause is None or cause[0] not in MARKET_CAUSES or order.client_order_id not in arrivals:
            continue
        native = stack.plan.native_symbols.get((cause[1], cause[2]))
        if native is None:
            continue
        traced.append(order)
        queries.append([cause[1], native, order.market_receive_ts_ns])
    emits = _http_json(f"{stack.control}/ground_truth/emits_before", queries, "POST")["emit_ns"] if queries else []
    latencies = [
        order_latency(order, emit, arrivals[order.client_order_id])
        for order, emit in zip(traced, emits, strict=True)
        if emit is not None
    ]
    return latencies, (events_after - events_before) / elapsed, len(orders) - len(latencies)


def find_max_eps(stack: Stack, rates: list[float], step_s: float, lag_bound: int, canonical_per_event: float) -> float:
    """The highest order-flow rate sustained through a step: the consumers' lag ended it below
    ``lag_bound``, the simulator kept pace with real time over the step's second half (fell no
    more than a second further behind: one that falls behind does not offer the rate asked for),
    and the normalisers' output over that half
    reached 80 % of what the rate makes (``canonical_per_event`` canonical events per order-flow
    event, as measured in the windows): a stage that cannot keep up before Kafka (the simulator,
    ingestion) shows there, not in a consumer's lag."""
    sustained = 0.0
    for rate in rates:
        stack.set_rate(rate)
        stack.tick(step_s / 2)
        before, started, behind_before = stack.canonical_events(), time.monotonic(), stack.simulator_lag_s()
        stack.tick(step_s / 2)
        canonical_eps = (stack.canonical_events() - before) / (time.monotonic() - started)
        lag, behind_s = stack.lag(), stack.simulator_lag_s()
        expected = rate * canonical_per_event
        kept = lag <= lag_bound and behind_s - behind_before <= 1.0 and canonical_eps >= 0.8 * expected
        print(
            f"  max_eps step: {rate:,.0f} order-flow events/s → lag {lag:,} records, simulator "
            f"{behind_before:.1f} → {behind_s:.1f} s behind, "
            f"{canonical_eps:,.0f} of {expected:,.0f} canonical events/s: {'sustained' if kept else 'not sustained'}",
            flush=True,
        )
        if not kept:
            break
        sustained = rate
    return sustained


def _print_run(index: int, figures: RunFigures, left_out: int) -> None:
    print(
        f"run {index}: {figures.orders} orders ({left_out} left out)  end to end p50 {figures.p50_ms:.2f} "
        f"p99 {figures.p99_ms:.2f} p99.9 {figures.p999_ms:.2f} ms  platform p50 {figures.platform_p50_ms:.2f} "
        f"p99 {figures.platform_p99_ms:.2f} ms  broker hop p50 {figures.broker_hop_ms:.2f} ms  "
        f"{figures.throughput_eps:,.0f} canonical events/s",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instruments", type=int, default=1000, help="instruments per exchange")
    parser.add_argument("--rate", type=float, default=5000.0, help="order-flow events per second over the three exchanges")
    parser.add_argument(
        "--strategies", type=int, default=4, help="strategy deployments in the chain (the four strategies in turn)"
    )
    parser.add_argument(
        "--normalisers", type=int, default=0, help="normaliser daemons on md.raw; 0: the normaliser chained into ingestion"
    )
    parser.add_argument(
        "--canonical-profile", choices=("stream", "latency"), default="stream",
        help="with the normaliser chained: the producer profile of md.bbo and md.trade",
    )  # fmt: skip
    parser.add_argument("--partitions", type=int, default=6, help="partitions of every topic not declared with its own count")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--warmup-s", type=float, default=90.0)
    parser.add_argument("--window-s", type=float, default=30.0)
    parser.add_argument(
        "--max-eps-rates", default="2500,5000,10000,15000,20000", help="order-flow rates to step through; empty: skip"
    )
    parser.add_argument("--max-eps-step-s", type=float, default=30.0)
    parser.add_argument(
        "--lag-bound", type=int, default=20_000, help="consumer lag (records) above which a rate is not sustained"
    )
    parser.add_argument("--keep-state", action="store_true", help="keep the logs, the broker's and the database's data")
    parser.add_argument("--smoke", action="store_true", help="a tiny run: 30 instruments, 300 events/s, one short window")
    args = parser.parse_args()
    if args.smoke:
        args.instruments, args.rate, args.runs, args.normalisers = 30, 300.0, 1, min(args.normalisers, 1)
        args.warmup_s, args.window_s, args.max_eps_rates, args.max_eps_step_s = 8.0, 6.0, "300,600", 3.0
    os.sched_setaffinity(0, range(os.cpu_count() or 1))
    print(
        f"tick to order: 3 x {args.instruments:,} instruments at {args.rate:g} order-flow events/s, "
        f"{args.strategies} strategy deployments, {args.runs} runs of {args.window_s:g} s after {args.warmup_s:g} s",
        flush=True,
    )
    stack, finished = Stack(args), False
    try:
        stack.start()
        stack.start_baseline_chain()
        stack.tick(args.warmup_s)
        chain_pid = stack.replicas("trading-chain")[0].pid
        chain_rss, baseline_rss = _rss_mb(chain_pid), stack.stop_baseline_chain()
        runs: list[RunFigures] = []
        for index in range(1, args.runs + 1):
            behind_before, started = stack.simulator_lag_s(), time.monotonic()
            latencies, eps, left_out = measure_window(stack, args.window_s)
            runs.append(run_figures(latencies, eps))
            _print_run(index, runs[-1], left_out)
            pace = 1 - (stack.simulator_lag_s() - behind_before) / (time.monotonic() - started)
            print(f"    the simulator ran at {pace:.0%} of real time (it offered ~{pace * args.rate:,.0f} events/s)", flush=True)
            for name, count, p50, p99 in segment_quantiles(latencies):
                print(f"    {name:<28} {count:>6} orders  p50 {p50:8.2f} ms  p99 {p99:8.2f} ms", flush=True)
        rates = [float(r) for r in args.max_eps_rates.split(",") if r.strip()]
        measured = [run.throughput_eps for run in runs if not math.isnan(run.throughput_eps)]
        canonical_per_event = statistics.median(measured) / args.rate if measured and args.rate else 0.0
        max_eps = find_max_eps(stack, rates, args.max_eps_step_s, args.lag_bound, canonical_per_event) if rates else float("nan")
        restarts = sum(r.restarts for r in stack.replicas())
        if restarts:
            print(f"warning: {restarts} daemon restarts during the run", flush=True)
        finished = not restarts
    finally:
        stack.close(keep_state=args.keep_state or not finished)
        if args.keep_state or not finished:
            print(f"logs kept under {stack.state}", flush=True)
    per_strategy = max(0.0, chain_rss - baseline_rss) / max(args.strategies, 1)
    print(f"memory: chain RSS {chain_rss:.1f} MB, without deployments {baseline_rss:.1f} MB → {per_strategy:.2f} MB per strategy")
    fields = ("platform_p50_ms", "platform_p99_ms", "p50_ms", "p99_ms", "p999_ms", "broker_hop_ms", "throughput_eps")
    summary: dict[str, float | int] = {}
    for field in fields:
        values = [getattr(run, field) for run in runs if run.orders]  # a window without an order has no figures
        if not values:
            summary[field] = float("nan")
            continue
        print(f"{field}: min {min(values):.2f}  median {statistics.median(values):.2f}  max {max(values):.2f}")
        summary[field] = round(statistics.median(values), 3)
    summary.update(max_eps=max_eps, strategies=args.strategies, rss_mb_per_strategy=round(per_strategy, 3))
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
