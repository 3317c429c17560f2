"""Prometheus metrics of one daemon, on its own registry and HTTP endpoint."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

_LATENCY_BUCKETS = (
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
)  # fmt: skip


class RuntimeMetrics:
    """The runtime's counters and histograms, labelled by daemon name."""

    def __init__(self, daemon: str, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        labels = ("daemon",)
        r = self.registry
        self.messages_in = Counter("platform_runtime_messages_in", "Messages consumed", labels, registry=r).labels(daemon)
        self.messages_out = Counter("platform_runtime_messages_out", "Messages produced", labels, registry=r).labels(daemon)
        self.dead_letters = Counter(
            "platform_runtime_dead_letters", "Messages dead-lettered by the handler", labels, registry=r
        ).labels(daemon)
        self.errors = Counter("platform_runtime_errors", "Runtime errors by kind", (*labels, "kind"), registry=r)
        self.batch_seconds = Histogram(
            "platform_runtime_batch_seconds",
            "Time from a batch being consumed to its outputs being handed to the producer",
            labels,
            buckets=_LATENCY_BUCKETS,
            registry=r,
        ).labels(daemon)
        self.batch_size = Histogram(
            "platform_runtime_batch_messages", "Messages per consumed batch", labels,
            buckets=(1, 2, 5, 10, 50, 100, 500, 1000, 5000, 10000), registry=r,
        ).labels(daemon)  # fmt: skip
        self.lag = Gauge(
            "platform_runtime_consumer_lag_messages", "High watermark minus position", (*labels, "topic", "partition"), registry=r
        )
        self.stall_recoveries = Counter(
            "platform_runtime_stall_recoveries", "Consumers recreated by the stall watchdog", labels, registry=r
        ).labels(daemon)
        self.side_input_holds = Counter(
            "platform_runtime_side_input_holds",
            "Input partitions held until the side inputs were read further",
            labels,
            registry=r,
        ).labels(daemon)
        self.commits = Counter("platform_runtime_commits", "Offset commits", labels, registry=r).labels(daemon)
        self.in_flight = Gauge(
            "platform_runtime_outputs_in_flight", "Outputs awaiting acknowledgement", labels, registry=r
        ).labels(daemon)
        self._daemon = daemon

    def error(self, kind: str) -> None:
        self.errors.labels(self._daemon, kind).inc()

    def set_lag(self, topic: str, partition: int, lag: int) -> None:
        self.lag.labels(self._daemon, topic, str(partition)).set(lag)

    def serve(self, host: str, port: int) -> int:
        """Start the /metrics endpoint; returns the bound port (useful with port 0)."""
        server, _thread = start_http_server(port, addr=host, registry=self.registry)
        return int(server.server_port)
