"""One reading of the broker: each topic's end offset and each consumer group's lag per topic,
asked of the broker itself (so it holds for any Kafka, whoever consumes)."""

from __future__ import annotations

import time
from collections.abc import Iterable

import msgspec
from confluent_kafka import ConsumerGroupTopicPartitions, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

from platform_streams.kafka_clients import admin_settings


class TopicReading(msgspec.Struct, frozen=True):
    """At ``at`` (epoch seconds): per topic, the sum of its partitions' end offsets (records ever
    written) and, per consumer group that committed offsets on it, how many records it has not read."""

    at: float
    ends: dict[str, int]
    lags: dict[str, dict[str, int]]  # topic -> group -> lag


def read_topics(bootstrap_servers: str, topics: Iterable[str], timeout_s: float = 15.0) -> TopicReading:
    admin = AdminClient({**admin_settings(bootstrap_servers), "log_level": 0})
    wanted = set(topics)
    metadata = admin.list_topics(timeout=timeout_s).topics
    partitions = [TopicPartition(name, p) for name in sorted(wanted) if name in metadata for p in metadata[name].partitions]
    at = time.time()
    ends_by_partition: dict[tuple[str, int], int] = {}
    if partitions:
        futures = admin.list_offsets({tp: OffsetSpec.latest() for tp in partitions}, request_timeout=timeout_s)
        for tp, future in futures.items():
            ends_by_partition[(tp.topic, tp.partition)] = future.result().offset
    ends: dict[str, int] = {}
    for (topic, _), end in ends_by_partition.items():
        ends[topic] = ends.get(topic, 0) + end
    lags: dict[str, dict[str, int]] = {}
    groups = [g.group_id for g in admin.list_consumer_groups(request_timeout=timeout_s).result().valid]
    for group in groups:
        try:
            committed = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)], request_timeout=timeout_s)
            result = committed[group].result()
        except KafkaException:
            continue  # a group deleted meanwhile
        for tp in result.topic_partitions or []:
            end = ends_by_partition.get((tp.topic, tp.partition))
            if end is None or tp.offset < 0:
                continue
            per_topic = lags.setdefault(tp.topic, {})
            per_topic[group] = per_topic.get(group, 0) + max(end - tp.offset, 0)
    return TopicReading(at, ends, lags)
