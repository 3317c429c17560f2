"""Side inputs: the hold bookkeeping as pure logic, and the reader against the real broker."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future

from confluent_kafka import KafkaError, KafkaException, TopicPartition

from platform_streams.runtime.side_inputs import PartitionHolds, SideInput, SideInputBarrier, SideInputReader
from platform_streams.topics import RAW_TOPIC
from tests.kafka_helpers import produce_raw
from tests.waiting import wait_until

RAW = (RAW_TOPIC, 3)
OTHER = (RAW_TOPIC, 4)


def within(seconds: float, condition: Callable[[], bool], poll: Callable[[], object]) -> None:
    wait_until(condition, seconds, "the side input", between=poll, interval_s=0.0)


def barrier() -> SideInputBarrier:
    return SideInputBarrier({}, 0.0)  # no partitions: its ends are known at once


def test_a_held_partition_is_resumed_once_the_side_inputs_reach_the_barrier_and_a_retry_still_failing_is_dead() -> None:
    holds = PartitionHolds(wait_s=30)
    assert holds.hold(RAW, 120, now=0.0) is None
    assert holds.hold(RAW, 120, now=0.1) is None  # the same record again (a batch retried): still held, once
    assert holds.take_fresh(barrier) == {RAW: 120}
    assert holds.take_fresh(barrier) == {}
    assert holds.due(1.0, lambda _: False) == []  # the side inputs are not that far yet
    assert holds.due(2.0, lambda _: True) == [RAW]
    assert RAW not in holds.active
    why = holds.hold(RAW, 120, now=2.1)  # it came back, and its dependency is still missing
    assert why is not None and "read to their end" in why
    assert holds.hold(RAW, 130, now=2.2) is None  # a later record is a new hold


def test_a_record_that_passes_on_its_retry_ends_the_hold() -> None:
    holds = PartitionHolds(wait_s=30)
    holds.hold(RAW, 7, now=0.0)
    holds.take_fresh(barrier)
    holds.due(1.0, lambda _: True)
    holds.passed(RAW, 8)  # record 7 was handled this time
    assert holds.hold(RAW, 7, now=1.5) is None  # a replay of it after a rebalance is held anew, not dead


def test_the_wait_is_bounded_and_lost_partitions_are_forgotten() -> None:
    holds = PartitionHolds(wait_s=5)
    holds.hold(RAW, 1, now=0.0)
    holds.hold(OTHER, 9, now=0.0)
    holds.take_fresh(barrier)
    assert holds.due(4.9, lambda _: False) == []
    assert holds.due(5.0, lambda _: False) == [RAW, OTHER]
    why = holds.hold(RAW, 1, now=5.1)
    assert why == "the side inputs did not catch up within 5 s"
    holds.hold(RAW, 2, now=6.0)
    holds.forget([RAW, OTHER])
    assert holds.active == {} and holds.fresh == []
    assert holds.hold(OTHER, 9, now=7.0) is None  # owned again later: a plain new hold


def test_a_barrier_whose_answer_failed_waits_for_nothing() -> None:
    answered: Future = Future()
    answered.set_result(type("Offset", (), {"offset": 42})())
    failed: Future = Future()
    failed.set_exception(KafkaException(KafkaError(KafkaError.UNKNOWN_TOPIC_OR_PART)))
    pending: Future = Future()
    shared = SideInputBarrier(
        {TopicPartition("t", 0): answered, TopicPartition("t", 1): failed, TopicPartition("t", 2): pending}, 0
    )
    assert shared.resolve() is None  # one partition has not answered yet
    pending.set_result(type("Offset", (), {"offset": 3})())
    assert shared.resolve() == {("t", 0): 42, ("t", 2): 3}


def test_reader_reads_a_compacted_topic_whole_then_follows_it(kafka_bootstrap, topic_factory) -> None:
    topic = topic_factory("side", 2)
    produce_raw(kafka_bootstrap, topic, [(b"a", b"1"), (b"b", b"2"), (b"a", b"x"), (b"c", b"")])

    def decode(value: bytes) -> int:
        return int(value)  # "x" is undecodable: logged and skipped

    reader = SideInputReader(kafka_bootstrap, [SideInput(topic, decode)], "side-test")
    try:
        got: list[int | None] = []
        assert reader.catch_up(lambda records: got.extend(records[topic]), timeout_s=30)
        assert sorted(got, key=str) == [1, 2, None] and reader.undecodable == 1
        before = reader.barrier()
        produce_raw(kafka_bootstrap, topic, [(b"d", b"4")])
        after = reader.barrier()
        within(30, lambda: after.resolve() is not None and before.resolve() is not None, lambda: time.sleep(0.05))
        assert reader.reached(before)
        more: list[int | None] = []
        within(30, lambda: reader.reached(after), lambda: more.extend(reader.poll(timeout_s=0.2).get(topic, [])))
        assert more == [4]
    finally:
        reader.close()


class LeaderlessAtFirst:
    """A consumer over a topic created a moment ago: its partition's leader is not elected for the
    first ``refusals`` asks of the partition's end (what `tradeplat up` met at every start)."""

    def __init__(self, refusals: int) -> None:
        self.refusals = refusals
        self.assigned: list[TopicPartition] = []

    def list_topics(self, topic: str, timeout: float) -> object:
        partition_metadata = type("Topic", (), {"error": None, "partitions": {0: None}})()
        return type("Metadata", (), {"topics": {topic: partition_metadata}})()

    def get_watermark_offsets(self, partition: TopicPartition, timeout: float) -> tuple[int, int]:
        if self.refusals:
            self.refusals -= 1
            raise KafkaException(KafkaError(KafkaError.NOT_LEADER_FOR_PARTITION))
        return 0, 42

    def assign(self, partitions: list[TopicPartition]) -> None:
        self.assigned = partitions


def test_a_from_end_side_input_waits_for_its_partition_leader_instead_of_failing_the_start() -> None:
    consumer = LeaderlessAtFirst(refusals=3)
    reader = SideInputReader("127.0.0.1:1", [SideInput("md.bbo", bytes, from_end=True)], "t", lambda _settings: consumer)
    assert reader.positions == {("md.bbo", 0): 42} and consumer.refusals == 0
    assert [(p.topic, p.partition, p.offset) for p in consumer.assigned] == [("md.bbo", 0, 42)]
