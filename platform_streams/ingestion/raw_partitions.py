"""Which ``md.raw`` partition each connection's frames go to: spread so that every normaliser works.

A connection's frames must stay in one partition (in order); which one the producer's
partitioner picks from the connection id is a hash, and with a handful of connections a hash
can put them all on partitions one normaliser owns. It did: ``binance-000``, ``binance-001``,
``okx-000`` and ``kraken-000`` all have an odd CRC32 (librdkafka's default partitioner), and a
consumer group deals partitions round-robin (partition p to member p mod n), so with two
normalisers one read every frame and the other none.

So each exchange gets a run of consecutive partitions instead, starting at its venue's share of
the partitions (venue place × partitions / venues: with 24 partitions Binance from 0, OKX from 4,
Kraken from 9, ...), one connection after another (``binance-000`` 0, ``binance-001`` 1, ...),
modulo the partition count. Consecutive partitions go to different members under round-robin
assignment, so each exchange's connections (and their load) spread evenly over the
normalisers, however many. An exchange without a native venue adapter (ccxt ingestion) keeps
the partitioner's choice.
"""

from __future__ import annotations

from platform_streams.exchanges.registry import VENUES

_VENUE_PLACES = {name: place for place, name in enumerate(VENUES)}


def raw_partition(exchange: str, connection_index: int, partitions: int) -> int | None:
    """The partition of the ``connection_index``-th connection of ``exchange``'s shard plan (None: the partitioner's)."""
    place = _VENUE_PLACES.get(exchange)
    if place is None or partitions < 1:
        return None
    return (place * partitions // len(_VENUE_PLACES) + connection_index) % partitions
