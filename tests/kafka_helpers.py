"""Test helpers around a real broker: produce numbered events, read a topic until a condition."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from confluent_kafka import Consumer, Message, Producer, TopicPartition

from platform_streams.demo.synthetic_trades import TradeGenerator
from platform_streams.kafka_clients import ProducerProfile, consumer_settings, producer_settings
from platform_streams.runtime.lifecycle import DaemonLifecycle
from platform_streams.schemas import encode


def make_trades(count: int, instruments: int = 20, seed: int = 1, now_ns: int | None = None) -> list:
    return TradeGenerator("test", instruments, seed).take(count, time.time_ns() if now_ns is None else now_ns)


def produce_events(bootstrap: str, topic: str, events: list, rate: float | None = None) -> None:
    """Produce events keyed by their key; at ``rate`` per second if given. Waits for every ack."""
    producer = Producer(producer_settings(bootstrap, ProducerProfile.LATENCY))
    started = time.monotonic()
    for i, event in enumerate(events):
        producer.produce(topic, encode(event), event.key)
        if rate is not None and i % 100 == 99:
            producer.poll(0)
            ahead = (i + 1) / rate - (time.monotonic() - started)
            if ahead > 0:
                time.sleep(ahead)
    assert producer.flush(60) == 0


def produce_raw(bootstrap: str, topic: str, records: list[tuple[bytes | None, bytes]]) -> None:
    producer = Producer(producer_settings(bootstrap, ProducerProfile.LATENCY))
    for key, value in records:
        producer.produce(topic, value, key)
    assert producer.flush(60) == 0


def read_until(
    bootstrap: str, topic: str, done: Callable[[list[Message]], bool], timeout_s: float = 60.0, group: str | None = None
) -> list[Message]:
    """Read ``topic`` from the start until ``done(messages)`` or the bound; returns what was read."""
    consumer = Consumer(consumer_settings(bootstrap, group or f"reader-{time.time_ns()}"))
    consumer.subscribe([topic])
    messages: list[Message] = []
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline and not done(messages):
            for message in consumer.consume(1000, 0.2):
                if message.error() is None:
                    messages.append(message)
    finally:
        consumer.close()
    return messages


def partitions(bootstrap: str, topic: str) -> list[int]:
    """The partitions of ``topic`` as the broker's metadata lists them now (none, just after it is created)."""
    consumer = Consumer(consumer_settings(bootstrap, f"metadata-{time.time_ns()}"))
    try:
        metadata = consumer.list_topics(topic, timeout=10).topics.get(topic)
        return sorted(metadata.partitions) if metadata is not None and metadata.error is None else []
    finally:
        consumer.close()


def record_count(bootstrap: str, topic: str) -> int:
    """How many records ``topic`` holds (the sum of its partitions' high watermarks)."""
    consumer = Consumer(consumer_settings(bootstrap, f"watermarks-{time.time_ns()}"))
    try:
        return sum(consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions(bootstrap, topic))
    finally:
        consumer.close()


class DaemonThread:
    """Runs a daemon in a thread for a test; ``stop()`` drains and joins it."""

    def __init__(self, daemon: DaemonLifecycle) -> None:
        self.daemon = daemon
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            self.daemon.run()  # type: ignore[attr-defined]
        except BaseException as exc:  # reported by stop()
            self.error = exc

    def __enter__(self) -> DaemonThread:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """False once the daemon's ``run`` returned or raised (by itself, or after ``stop``)."""
        return self._thread.is_alive()

    def stop(self) -> None:
        self.daemon.stop()
        self._thread.join(timeout=60)
        assert not self._thread.is_alive(), "daemon did not stop"
        if self.error is not None:
            raise self.error
