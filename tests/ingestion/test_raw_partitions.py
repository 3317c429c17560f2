"""Where each connection's md.raw frames go: the connections of a deployment spread over the
partitions so that a consumer group's round-robin assignment gives every normaliser some."""

from __future__ import annotations

import zlib

from hypothesis import given
from hypothesis import strategies as st

from platform_streams.ingestion.raw_partitions import raw_partition
from platform_streams.ingestion.shard_planner import plan_shards

CHANNELS = ("trade", "depth", "bookTicker")


def members_reading(plans: list[tuple[str, int]], partitions: int, members: int) -> set[int]:
    """The group members (round-robin: partition p to member p mod members) that get a connection."""
    return {raw_partition(exchange, index, partitions) % members for exchange, index in plans}  # type: ignore[operator]


def test_the_make_up_connections_reach_both_normalisers_where_the_hash_sent_them_to_one() -> None:
    connections = [("binance", 0), ("binance", 1), ("binance", 2), ("okx", 0), ("kraken", 0)]
    ids = [f"{exchange}-{index:03d}" for exchange, index in connections]
    # librdkafka's default partitioner (CRC32 of the key): every one of them odd, so one member of two
    assert {zlib.crc32(i.encode()) % 24 % 2 for i in ids} == {1}
    for partitions in (6, 24):
        assert members_reading(connections, partitions, 2) == {0, 1}
        assert members_reading(connections, partitions, 3) == {0, 1, 2}
    placed = [raw_partition(exchange, index, 24) for exchange, index in connections]
    assert placed == [0, 1, 2, 4, 9]  # each exchange from its share of the partitions, one connection after another


@given(
    st.integers(1, 40),
    st.sampled_from([2, 3, 4, 5, 6, 8, 10]),
    st.sampled_from([1, 2, 3, 6]),
    st.sampled_from(["binance", "okx", "kraken"]),
)
def test_one_exchange_s_connections_are_dealt_to_the_members_in_turn(
    connections: int, members: int, multiple: int, exchange: str
) -> None:
    partitions = members * multiple  # a partition count the group divides, as a deployment sizes it
    per_member = [0] * members
    for index in range(connections):
        per_member[raw_partition(exchange, index, partitions) % members] += 1  # type: ignore[operator]
    assert max(per_member) - min(per_member) <= 1


def test_plans_carry_each_connection_s_index_and_unknown_venues_keep_the_partitioner() -> None:
    plans = plan_shards("binance", [f"S{i:04d}/USDT" for i in range(1_000)], CHANNELS, 1024, replicas=2)
    assert [p.index for p in plans] == [0, 1, 2] and [p.connection_id for p in plans] == [
        "binance-000",
        "binance-001",
        "binance-002",
    ]
    assert raw_partition("bitstamp", 0, 24) is None  # ccxt ingestion: the connection id's hash decides
    assert raw_partition("binance", 5, 0) is None  # the topic's partitions unknown
