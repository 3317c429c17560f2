"""Reading a topic once, up to its end as of now, without a consumer group: a compacted control topic
read whole (each key's latest value), or what arrived on a topic since positions kept elsewhere."""

from __future__ import annotations

import time
import uuid

from confluent_kafka import Consumer, KafkaException, Message, TopicPartition

from platform_streams.kafka_clients import consumer_settings
from platform_streams.settings import ConfigError


def read_to_end(
    servers: str, topic: str, positions: dict[int, int] | None = None, timeout_s: float = 30.0, max_records: int = 0
) -> tuple[list[Message], dict[int, int]]:
    """The records of ``topic`` after ``positions`` (partition → next offset; a partition not in it:
    from the oldest record kept) up to the topic's end as of the call, and the positions after them.
    ``max_records`` (0: no bound) stops early; the positions then say where the rest begins."""
    group = f"tradeplat-reader-{uuid.uuid4().hex}"  # assigned, never subscribed: the group commits nothing
    consumer = Consumer(consumer_settings(servers, group, {"enable.auto.commit": False}))
    read: list[Message] = []
    positions = dict(positions or {})
    try:
        metadata = consumer.list_topics(topic, timeout=timeout_s).topics[topic]
        if metadata.error is not None:
            raise ConfigError(f"topic {topic} cannot be read: {metadata.error} (run `tradeplat topics`)")
        deadline = time.monotonic() + timeout_s
        ends: dict[int, int] = {}
        for partition in metadata.partitions:
            low, high = _watermarks(consumer, TopicPartition(topic, partition), deadline)
            positions[partition] = max(positions.get(partition, low), low)
            if high > positions[partition]:
                ends[partition] = high
        consumer.assign([TopicPartition(topic, p, positions[p]) for p in ends])
        while ends and not (max_records and len(read) >= max_records):
            if time.monotonic() > deadline:
                raise ConfigError(f"could not read {topic} to its end within {timeout_s} s")
            message = consumer.poll(0.5)
            if message is None or message.error() is not None:
                continue
            positions[message.partition()] = message.offset() + 1
            if positions[message.partition()] >= ends.get(message.partition(), 0):
                ends.pop(message.partition(), None)
            read.append(message)
    finally:
        consumer.close()
    return read, positions


def latest_values(servers: str, topic: str, timeout_s: float = 30.0) -> dict[str, bytes | None]:
    """Each key's latest value (None: a tombstone), read from the start of ``topic`` to its end as of now."""
    latest: dict[str, bytes | None] = {}
    for message in read_to_end(servers, topic, timeout_s=timeout_s)[0]:
        key = message.key()
        if key is not None:
            latest[key.decode(errors="replace")] = message.value() or None
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
