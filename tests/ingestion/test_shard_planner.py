import pytest
from hypothesis import given
from hypothesis import strategies as st

from platform_streams.ingestion.shard_planner import PlanError, plan_shards, shard_of, subscription_batches

CHANNELS = ("trade", "depth", "bookTicker")


def symbols(n: int) -> list[str]:
    return [f"S{i:04d}/USDT" for i in range(n)]


def test_thousand_instruments_respect_the_stream_limit_and_balance() -> None:
    plans = plan_shards("binance", symbols(1_000), CHANNELS, streams_per_connection=1024, replicas=2)
    assert len(plans) == 3  # 341 instruments × 3 channels fit in 1024 streams
    assert all(p.streams <= 1024 for p in plans)
    assert sorted(len(p.symbols) for p in plans) == [333, 333, 334]
    assert [p.replica for p in plans] == [0, 1, 0]
    assert sorted(s for p in plans for s in p.symbols) == symbols(1_000)


def test_every_replica_gets_work_when_there_are_enough_instruments() -> None:
    plans = plan_shards("okx", symbols(10), CHANNELS, streams_per_connection=1024, replicas=4)
    assert {p.replica for p in plans} == {0, 1, 2, 3}
    assert len(shard_of(plans, 3)) == 1


def test_deterministic_and_independent_of_input_order() -> None:
    names = symbols(50)
    assert plan_shards("kraken", names, CHANNELS, 30, 2) == plan_shards("kraken", list(reversed(names)), CHANNELS, 30, 2)


@given(st.integers(0, 3_000), st.integers(3, 2_000), st.integers(1, 8))
def test_plans_cover_each_instrument_once_within_limits(count: int, limit: int, replicas: int) -> None:
    plans = plan_shards("x", symbols(count), CHANNELS, limit, replicas)
    assigned = [s for p in plans for s in p.symbols]
    assert sorted(assigned) == symbols(count)
    assert all(p.streams <= limit for p in plans)
    assert len({p.connection_id for p in plans}) == len(plans)


def test_impossible_plans_are_errors() -> None:
    with pytest.raises(PlanError, match="replica"):
        plan_shards("x", symbols(3), CHANNELS, 100, 0)
    with pytest.raises(PlanError, match="exceed"):
        plan_shards("x", symbols(3), CHANNELS, 2, 1)


def test_subscription_batches() -> None:
    plan = plan_shards("binance", symbols(5), ("trade", "depth"), 1024, 1)[0]
    batches = subscription_batches(plan, 4)
    assert [len(b) for b in batches] == [4, 4, 2]
    assert batches[0][:2] == [("trade", "S0000/USDT"), ("depth", "S0000/USDT")]
