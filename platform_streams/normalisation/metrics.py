"""The normaliser's metrics, the same whether a normalisation daemon or an ingestion with the
normaliser chained (:mod:`platform_streams.ingestion.chained_normaliser`) runs it."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Gauge

from platform_streams.normalisation.normaliser import Normaliser
from platform_streams.runtime.batch_histogram import BatchHistogram

_LATENCY_BUCKETS = tuple(
    b / 1000 for b in (0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4, 5, 7.5, 10, 15, 20, 30, 50, 75, 100, 250, 500, 1000, 5000)
)


class NormaliserMetrics:
    """Books kept, resyncs, and a frame's receipt by ingestion → its canonical events handed to the producer."""

    def __init__(self, daemon: str, registry: CollectorRegistry) -> None:
        self.books = Gauge("platform_normalisation_books", "Books kept", ("daemon",), registry=registry).labels(daemon)
        self.resyncs = Gauge("platform_normalisation_resyncs", "Book resyncs", ("daemon",), registry=registry).labels(daemon)
        self.receive_to_produce = BatchHistogram(
            "platform_normalisation_receive_to_produce_seconds",
            "From a frame's receipt by ingestion to its canonical events being handed to the producer",
            {"daemon": daemon},
            _LATENCY_BUCKETS,
            registry,
        )

    def update(self, normaliser: Normaliser) -> None:
        """The books the normaliser keeps and the resyncs it made, now."""
        self.books.set(len(normaliser.books()))
        self.resyncs.set(normaliser.resyncs)
