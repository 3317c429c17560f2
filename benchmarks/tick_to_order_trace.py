"""Tick-to-order figures from per-order traces: the simulator's emit of the market event an order
reacted to → the order's arrival at the simulator, split into time waiting in the broker and the
platform's own time.

Pure (no I/O): :mod:`benchmarks.tick_to_order` reads the orders table and the simulator's ground
truth and hands the rows here. An order's trace is its ``hops`` (``feed``, ``canonical``,
``indicator``, ``strategy``, ``risk``, ``execution``) with the market event's receive time; a
wait between one hop's end and the next one's start (from ingestion's receipt to the
normaliser, from the normaliser to the strategies, from risk to execution) is broker time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

FEED_STAGE = "feed"
EXECUTION_STAGE = "execution"
MARKET_CAUSES = ("bbo", "trade")  # events an exchange emitted; candles close on the clock, they have no emit time


@dataclass(frozen=True, slots=True)
class StoredOrder:
    """One order as the orders table keeps it."""

    client_order_id: str
    exchange: str
    intent_id: str
    hops: Sequence[tuple[str, int, int]]
    market_receive_ts_ns: int
    sent_ts_ns: int


@dataclass(frozen=True, slots=True)
class OrderLatency:
    """One order's tick-to-order latency, in ns, and where it went (segment name → ns, in path order)."""

    end_to_end_ns: int
    broker_ns: int
    broker_waits_ns: tuple[int, ...]  # each hop's wait in the broker
    segments: tuple[tuple[str, int], ...] = ()

    @property
    def platform_ns(self) -> int:
        return self.end_to_end_ns - self.broker_ns


def cause_of(intent_id: str) -> tuple[str, str, str] | None:
    """``(kind, exchange, symbol)`` of the event an intent reacted to (its id is
    ``deployment:cause id:index``, a cause id ``kind:exchange:symbol:...``); None if unreadable."""
    parts = intent_id.split(":")
    if len(parts) < 5:
        return None
    return parts[1], parts[2], parts[3]


def broker_waits(hops: Sequence[tuple[str, int, int]], market_receive_ts_ns: int) -> tuple[int, ...]:
    """The waits between the platform's stages: from the receipt to the first stage, then from
    each stage's end to the next one's start (the feed hop is the exchange's, not ours)."""
    waits, previous_out = [], market_receive_ts_ns
    for stage, in_ns, out_ns in hops:
        if stage == FEED_STAGE:
            continue
        waits.append(max(0, in_ns - previous_out))
        previous_out = out_ns
    return tuple(waits)


def segments(order: StoredOrder, emit_ns: int, arrival_ns: int) -> tuple[tuple[str, int], ...]:
    """The order's path cut into what each part took: the exchange's emit → ingestion's receipt,
    then each stage (``execution`` ends when the order was handed to the exchange client) and
    each wait before it, then sent → arrival at the exchange."""
    parts, previous_out = [("emit→receive", order.market_receive_ts_ns - emit_ns)], order.market_receive_ts_ns
    for stage, in_ns, out_ns in order.hops:
        if stage == FEED_STAGE:
            continue
        out_ns = order.sent_ts_ns if stage == EXECUTION_STAGE else out_ns
        parts += [(f"wait→{stage}", in_ns - previous_out), (stage, out_ns - in_ns)]
        previous_out = out_ns
    parts.append(("sent→arrival", arrival_ns - order.sent_ts_ns))
    return tuple(parts)


def order_latency(order: StoredOrder, emit_ns: int, arrival_ns: int) -> OrderLatency:
    waits = broker_waits(order.hops, order.market_receive_ts_ns)
    return OrderLatency(arrival_ns - emit_ns, sum(waits), waits, segments(order, emit_ns, arrival_ns))


def segment_quantiles(latencies: Sequence[OrderLatency]) -> list[tuple[str, int, float, float]]:
    """Per segment (in path order): how many orders went through it, its p50 and p99 in ms."""
    values: dict[str, list[float]] = {}
    for latency in latencies:
        for name, ns in latency.segments:
            values.setdefault(name, []).append(ns / 1e6)
    return [(name, len(v), quantile(v, 0.5), quantile(v, 0.99)) for name, v in values.items()]


def quantile(values: Sequence[float], q: float) -> float:
    """The q-quantile by nearest rank (NaN for no values)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


@dataclass(frozen=True, slots=True)
class RunFigures:
    """One measurement window's figures, in ms (eps in events per second)."""

    orders: int
    platform_p50_ms: float
    platform_p99_ms: float
    p50_ms: float
    p99_ms: float
    p999_ms: float
    broker_hop_ms: float  # median wait of one broker hop on the orders' paths
    throughput_eps: float


def run_figures(latencies: Sequence[OrderLatency], throughput_eps: float) -> RunFigures:
    end_to_end = [latency.end_to_end_ns / 1e6 for latency in latencies]
    platform = [latency.platform_ns / 1e6 for latency in latencies]
    waits = [wait / 1e6 for latency in latencies for wait in latency.broker_waits_ns]
    return RunFigures(
        orders=len(latencies),
        platform_p50_ms=quantile(platform, 0.50),
        platform_p99_ms=quantile(platform, 0.99),
        p50_ms=quantile(end_to_end, 0.50),
        p99_ms=quantile(end_to_end, 0.99),
        p999_ms=quantile(end_to_end, 0.999),
        broker_hop_ms=quantile(waits, 0.50),
        throughput_eps=throughput_eps,
    )
