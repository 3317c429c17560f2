"""BatchHistogram is exposed exactly as prometheus_client's Histogram fed the same values."""

from __future__ import annotations

import random

import pytest
from prometheus_client import CollectorRegistry, Histogram, generate_latest

from platform_streams.runtime.batch_histogram import BatchHistogram

BUCKETS = (0.00025, 0.0005, 0.001, 0.005, 0.01, 0.1, 1.0)


def exposition(registry: CollectorRegistry) -> list[str]:
    """The text exposition without the creation-time samples (they differ between the two)."""
    return [line for line in generate_latest(registry).decode().splitlines() if "_created" not in line]


def test_the_exposition_equals_prometheus_clients_histogram_on_the_same_values() -> None:
    rng = random.Random(7)
    # bounds themselves (le is inclusive), zero, values above every bound, and a spread between
    values = [*BUCKETS, 0.0, 5.0, 1e9, *(rng.uniform(0, 0.02) for _ in range(2_000))]
    theirs, ours = CollectorRegistry(), CollectorRegistry()
    reference = Histogram("hop_seconds", "a hop", ("daemon",), buckets=BUCKETS, registry=theirs).labels("n-1")
    batched = BatchHistogram("hop_seconds", "a hop", {"daemon": "n-1"}, BUCKETS, ours)
    for value in values:
        reference.observe(value)
    batched.observe_many(values[:1_000])  # in batches of any size
    batched.observe_many(values[1_000:])
    lines = exposition(ours)
    assert lines == exposition(theirs)
    assert 'hop_seconds_bucket{daemon="n-1",le="0.00025"} ' in "\n".join(lines)  # the first bound counts itself
    assert f'hop_seconds_count{{daemon="n-1"}} {float(len(values))}' in lines


def test_an_empty_histogram_is_exposed_with_zero_counts_and_bad_buckets_are_refused() -> None:
    registry = CollectorRegistry()
    BatchHistogram("idle_seconds", "nothing yet", {"daemon": "d"}, BUCKETS, registry)
    assert registry.get_sample_value("idle_seconds_count", {"daemon": "d"}) == 0.0
    assert registry.get_sample_value("idle_seconds_bucket", {"daemon": "d", "le": "+Inf"}) == 0.0
    with pytest.raises(ValueError, match="distinct"):
        BatchHistogram("twice_seconds", "", {}, (0.1, 0.1), registry)
