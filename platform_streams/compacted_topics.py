"""Reading a compacted control topic whole, once: each key's latest value as of now."""

from __future__ import annotations

import time
import uuid

from confluent_kafka import Consumer, KafkaException, TopicPartition

from platform_streams.kafka_clients import consumer_settings
from platform_streams.settings import ConfigError


def latest_values(servers: str, topic: str, timeout_s: float = 30.0) -> dict[str, bytes | None]:
    """Each key's latest value (None: a tombstone), read from the start of ``topic`` to its end as of now."""
    group = f"tradeplat-reader-{uuid.uuid4().hex}"  # assigned, never subscribed: the group commits nothing
    consumer = Consumer(consumer_settings(servers, group, {"enable.auto.commit": False}))
    latest: dict[str, bytes | None] = {}
    try:
        metadata = consumer.list_topics(topic, timeout=timeout_s).topics[topic]
        if metadata.error is not None:
            raise ConfigError(f"topic {topic} cannot be read: {metadata.error} (run `tradeplat topics`)")
        deadline = time.monotonic() + timeout_s
        ends: dict[int, int] = {}
        for partition in metadata.partitions:
            low, high = _watermarks(consumer, TopicPartition(topic, partition), deadline)
            if high > low:
                ends[partition] = high
        consumer.assign([TopicPartition(topic, partition, 0) for partition in ends])
        while ends:
            if time.monotonic() > deadline:
                raise ConfigError(f"could not read {topic} to its end within {timeout_s} s")
            message = consumer.poll(0.5)
            if message is None or message.error() is not None:
                continue
            if message.offset() + 1 >= ends.get(message.partition(), 0):
                ends.pop(message.partition(), None)
            key = message.key()
            if key is not None:
                latest[key.decode(errors="replace")] = message.value() or None
    finally:
        consumer.close()
    return latest


def _watermarks(consumer: Consumer, partition: TopicPartition, deadline: float) -> tuple[int, int]:
    """The partition's low and high offsets, asked again while the client learns its leader (a new
    topic, or metadata not fetched yet, answers NOT_LEADER_FOR_PARTITION at first)."""
    while True:
        try:
            return consumer.get_watermark_offsets(partition, timeout=max(1.0, deadline - time.monotonic()))
        except KafkaException as error:
            if time.monotonic() > deadline:
                raise ConfigError(f"cannot read the offsets of {partition.topic}: {error}") from None
            time.sleep(0.2)  # a pause before asking again, not a wait for something to happen
