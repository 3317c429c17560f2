"""A Prometheus histogram fed a batch of observations at once (per-event latencies of a batch)."""

from __future__ import annotations

import bisect
import math
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence

from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import HistogramMetricFamily
from prometheus_client.utils import floatToGoString


class BatchHistogram:
    """One histogram series whose observations arrive a batch at a time.

    Exposed exactly as a ``prometheus_client.Histogram`` with the same name, labels and buckets
    would be, but an observation costs a bisect and a list increment under one lock per batch,
    instead of ``Histogram.observe``'s lock and bucket loop per value (about 2 µs an event in the
    normaliser's per-frame loop, a sixteenth of its time)."""

    def __init__(
        self, name: str, documentation: str, labels: Mapping[str, str], buckets: Sequence[float], registry: CollectorRegistry
    ) -> None:
        bounds = sorted(float(b) for b in buckets if b != math.inf)
        if not bounds or len(set(bounds)) != len(bounds):
            raise ValueError(f"{name}: buckets must be distinct and at least one finite")
        self._name = name
        self._documentation = documentation
        self._labels = dict(labels)
        self._bounds = bounds
        self._counts = [0] * (len(bounds) + 1)  # the last one: above every bound (+Inf)
        self._sum = 0.0
        self._lock = threading.Lock()
        registry.register(self)

    def observe_many(self, values: Iterable[float]) -> None:
        """Count every value in ``values`` (seconds, or whatever the buckets measure)."""
        place, bounds, counts = bisect.bisect_left, self._bounds, self._counts
        with self._lock:
            for value in values:
                counts[place(bounds, value)] += 1  # le: the first bound >= value
                self._sum += value

    def _family(self) -> HistogramMetricFamily:
        return HistogramMetricFamily(self._name, self._documentation, labels=list(self._labels))

    def describe(self) -> Iterator[HistogramMetricFamily]:
        yield self._family()

    def collect(self) -> Iterator[HistogramMetricFamily]:
        with self._lock:
            counts, total = list(self._counts), self._sum
        cumulative, buckets = 0, []
        for bound, count in zip([*self._bounds, math.inf], counts, strict=True):
            cumulative += count
            buckets.append((floatToGoString(bound), cumulative))
        family = self._family()
        family.add_metric(list(self._labels.values()), buckets, total)
        yield family
