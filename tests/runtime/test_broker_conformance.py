"""Broker conformance: what the runtime needs of any Kafka it meets.

Run against whatever broker the tests use (embedded, or KAFKA_BOOTSTRAP_SERVERS),
except the restart test, which needs a broker it can stop and so starts its own
embedded one.
"""

from __future__ import annotations

import struct
import threading
import time
from collections import defaultdict
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer

from platform_streams.demo.passthrough import PassThroughDaemon, PassThroughSettings
from platform_streams.embedded.kafka_broker import EmbeddedKafka
from platform_streams.embedded.paths import kafka_libs_dir
from platform_streams.kafka_clients import ProducerProfile, consumer_settings, producer_settings
from platform_streams.runtime.dedupe import Deduplicator
from platform_streams.schemas import decode
from platform_streams.topics import TopicSpec, ensure_topics
from tests.kafka_helpers import DaemonThread, make_trades, produce_events, read_until
from tests.waiting import wait_until

KEYS = 60
_RECORD = struct.Struct(">II")  # key index, sequence number within the key


class TailingConsumer(threading.Thread):
    """A live-tailing consumer at the runtime's settings, recording (partition, offset, key, seq)."""

    def __init__(self, bootstrap: str, topic: str, group: str) -> None:
        super().__init__(daemon=True)
        self.consumer = Consumer(consumer_settings(bootstrap, group))
        self.consumer.subscribe([topic])
        self.records: list[tuple[int, int, int, int]] = []
        self.assigned = threading.Event()
        self.stop_requested = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stop_requested.is_set():
                first = self.consumer.poll(0.1)
                if self.consumer.assignment():
                    self.assigned.set()
                if first is None:
                    continue
                for message in [first, *self.consumer.consume(1000, 0)]:
                    if message.error() is None:
                        key, seq = _RECORD.unpack(message.value())
                        self.records.append((message.partition(), message.offset(), key, seq))
        except BaseException as exc:  # surfaced by the test
            self.error = exc
        finally:
            self.consumer.close()


def steady_producer(bootstrap: str, topic: str, total: int, rate: float, log: list[float] | None = None) -> None:
    producer = Producer(producer_settings(bootstrap, ProducerProfile.LATENCY))
    sequences = [0] * KEYS
    started = time.monotonic()
    for i in range(total):
        key = i % KEYS
        producer.produce(topic, _RECORD.pack(key, sequences[key]), f"k{key}")
        sequences[key] += 1
        if i % 50 == 49:
            producer.poll(0)
            ahead = (i + 1) / rate - (time.monotonic() - started)
            if ahead > 0:
                time.sleep(ahead)
    assert producer.flush(120) == 0


def assert_complete_and_ordered(records: list[tuple[int, int, int, int]], total: int) -> None:
    """Every (key, seq) arrived; within each partition offsets and per-key sequences only grow."""
    seen = {(key, seq) for _, _, key, seq in records}
    assert len(seen) == total
    last_offset: dict[int, int] = {}
    last_seq: dict[int, int] = defaultdict(lambda: -1)
    for partition, offset, key, seq in records:
        assert offset > last_offset.get(partition, -1), f"partition {partition} went back to offset {offset}"
        last_offset[partition] = offset
        assert seq == last_seq[key] + 1, f"key {key}: seq {seq} after {last_seq[key]}"
        last_seq[key] = seq


def test_live_tailing_consumers_receive_every_message_in_order(kafka_bootstrap, topic_factory) -> None:
    topic = topic_factory("conformance", 6)
    total = 24_000
    solo = TailingConsumer(kafka_bootstrap, topic, f"solo-{time.time_ns()}")
    shared_group = f"shared-{time.time_ns()}"
    pair = [TailingConsumer(kafka_bootstrap, topic, shared_group) for _ in range(2)]
    consumers = [solo, *pair]
    for consumer in consumers:
        consumer.start()
    try:
        wait_until(lambda: all(c.assigned.is_set() for c in consumers), 60, "assignments")
        steady_producer(kafka_bootstrap, topic, total, rate=4_000)
        wait_until(lambda: len(solo.records) >= total and sum(len(c.records) for c in pair) >= total, 60, "every message")
    finally:
        for consumer in consumers:
            consumer.stop_requested.set()
            consumer.join(timeout=30)
    assert all(c.error is None for c in consumers)
    assert len(solo.records) == total
    assert_complete_and_ordered(solo.records, total)
    assert len({p for p, *_ in solo.records}) == 6
    # the shared group splits the partitions: together they see each message exactly once
    assert sum(len(c.records) for c in pair) == total
    assert {(k, s) for c in pair for *_, k, s in c.records} == {(k, s) for *_, k, s in solo.records}
    for consumer in pair:
        assert_complete_and_ordered(consumer.records, len({(k, s) for *_, k, s in consumer.records}))


@pytest.mark.e2e
def test_broker_restart_mid_stream_delivers_every_message(tmp_path: Path) -> None:
    broker = EmbeddedKafka(tmp_path / "kafka", kafka_libs_dir())
    bootstrap = broker.start()
    total = 16_000
    try:
        ensure_topics(bootstrap, specs=[TopicSpec("restart.test", "k", "bytes", ProducerProfile.LATENCY, partitions=4)])
        tail = TailingConsumer(bootstrap, "restart.test", "restart-group")
        tail.start()
        wait_until(tail.assigned.is_set, 60, "assignment")
        producer = threading.Thread(target=steady_producer, args=(bootstrap, "restart.test", total, 2_000))
        producer.start()
        wait_until(lambda: len(tail.records) >= total // 4, 60, "a quarter of the stream")
        broker.stop()
        assert broker.pid is None
        broker.start()
        producer.join(timeout=180)
        assert not producer.is_alive()
        wait_until(lambda: len({(k, s) for *_, k, s in tail.records}) >= total, 120, "every message after the restart")
        tail.stop_requested.set()
        tail.join(timeout=30)
        assert tail.error is None
        # at-least-once for the live consumer: first occurrences complete and in order per key
        dedupe = Deduplicator()
        firsts = [r for r in tail.records if dedupe.first_time((r[2], r[3]))]
        last_seq: dict[int, int] = defaultdict(lambda: -1)
        for _, _, key, seq in firsts:
            assert seq == last_seq[key] + 1
            last_seq[key] = seq
        # the broker kept its data: a new reader finds every message once (idempotent producer)
        stored = read_until(bootstrap, "restart.test", lambda got: len(got) >= total, timeout_s=60)
        assert sorted(_RECORD.unpack(m.value()) for m in stored) == sorted({(k, s) for *_, k, s in tail.records})
        assert len(stored) == total
    finally:
        broker.stop()


class StallingConsumer(Consumer):
    """A client that stops receiving after ``after`` messages while the broker keeps the data,
    as a consumer whose fetches come back empty does."""

    def __init__(self, settings: dict, after: int) -> None:
        super().__init__(settings)
        self._remaining = after

    def poll(self, timeout: float | None = None):
        if self._remaining <= 0:
            time.sleep(min(timeout or 0, 0.1))
            return None
        message = super().poll(timeout)
        if message is not None:
            self._remaining -= 1
        return message

    def consume(self, num_messages: int = 1, timeout: float = -1):
        if self._remaining <= 0:
            return []
        messages = super().consume(min(num_messages, self._remaining), timeout)
        self._remaining -= len(messages)
        return messages


class StallOnceDaemon(PassThroughDaemon):
    """A pass-through whose first consumer stalls; later consumers (after recovery) are normal."""

    consumers_created = 0

    def create_consumer(self, settings: dict) -> Consumer:
        self.consumers_created += 1
        return StallingConsumer(settings, after=1_500) if self.consumers_created == 1 else Consumer(settings)


def test_watchdog_recovers_a_stalled_consumer_with_nothing_lost(kafka_bootstrap, topic_factory) -> None:
    source, sink = topic_factory("stall-in", 4), topic_factory("stall-out", 4)
    trades = make_trades(6_000)
    settings = PassThroughSettings(
        name="stall-test",
        group=f"stall-{time.time_ns()}",
        bootstrap_servers=kafka_bootstrap,
        inputs=[source],
        output=sink,
        metrics_port=-1,
        stall_timeout_s=2.0,
        watchdog_interval_s=0.25,
        batch_max=100,
    )
    daemon = StallOnceDaemon(settings)
    with DaemonThread(daemon):
        produce_events(kafka_bootstrap, source, trades, rate=3_000)
        out = read_until(kafka_bootstrap, sink, lambda got: len({m.value() for m in got}) >= len(trades), timeout_s=90)
    recoveries = daemon.metrics.registry.get_sample_value("platform_runtime_stall_recoveries_total", {"daemon": "stall-test"})
    assert recoveries is not None and recoveries >= 1
    assert daemon.consumers_created >= 2
    ids = [decode(m.value()).event_id for m in out]
    assert set(ids) == {t.event_id for t in trades}
