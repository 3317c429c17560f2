"""The shard planner: instruments → WebSocket connections → ingestion replicas ("many pipes").

Each instrument's channels all go on one connection, so its trades and book updates
stay in one ordered stream (``md.raw`` is keyed by connection, each connection on one
partition: :mod:`~platform_streams.ingestion.raw_partitions`). Connections hold at
most ``streams_per_connection`` streams (the exchange's limit, or a lower one chosen
for throughput) and are dealt round-robin to replicas. Deterministic: the same
inputs always give the same plan, so a restarted replica finds its own shard.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import msgspec


class PlanError(ValueError):
    """Inputs that no plan can satisfy (a connection too small for one instrument, no replicas)."""


class ConnectionPlan(msgspec.Struct, frozen=True):
    """One WebSocket connection: its id, its place in the plan, the replica that owns it, and its instruments."""

    exchange: str
    connection_id: str
    replica: int
    symbols: tuple[str, ...]
    channels: tuple[str, ...]
    index: int = 0

    @property
    def streams(self) -> int:
        return len(self.symbols) * len(self.channels)


def plan_shards(
    exchange: str, symbols: Sequence[str], channels: Sequence[str], streams_per_connection: int, replicas: int
) -> list[ConnectionPlan]:
    """Split ``symbols`` (each with every channel) over the fewest connections that respect the
    stream limit, balanced to within one instrument, and deal the connections to replicas."""
    if replicas < 1:
        raise PlanError(f"{exchange}: need at least one ingestion replica, got {replicas}")
    if not channels:
        raise PlanError(f"{exchange}: no channels to subscribe")
    per_connection = streams_per_connection // len(channels)
    if per_connection < 1:
        raise PlanError(
            f"{exchange}: {len(channels)} channels per instrument exceed {streams_per_connection} streams per connection"
        )
    ordered = sorted(set(symbols))
    if not ordered:
        return []
    connections = max(math.ceil(len(ordered) / per_connection), min(replicas, len(ordered)))
    base, extra = divmod(len(ordered), connections)
    plans: list[ConnectionPlan] = []
    start = 0
    for index in range(connections):
        size = base + (1 if index < extra else 0)
        plans.append(
            ConnectionPlan(
                exchange=exchange,
                connection_id=f"{exchange}-{index:03d}",
                replica=index % replicas,
                symbols=tuple(ordered[start : start + size]),
                channels=tuple(channels),
                index=index,
            )
        )
        start += size
    return plans


def shard_of(plans: Sequence[ConnectionPlan], replica: int) -> list[ConnectionPlan]:
    """The connections one replica owns."""
    return [plan for plan in plans if plan.replica == replica]


def subscription_batches(plan: ConnectionPlan, streams_per_message: int) -> list[list[tuple[str, str]]]:
    """The connection's (channel, symbol) streams in subscribe messages of at most ``streams_per_message``."""
    streams = [(channel, symbol) for symbol in plan.symbols for channel in plan.channels]
    return [streams[i : i + streams_per_message] for i in range(0, len(streams), streams_per_message)]
