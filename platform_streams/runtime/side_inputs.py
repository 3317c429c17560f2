"""Side inputs: compacted topics a stage reads whole beside its inputs (instrument metadata,
control state), owned by the runtime so that no stage does Kafka I/O in ``handle``.

A stage declares its side inputs (:class:`SideInput`: a topic and how to decode a record);
the runtime reads each from the beginning with a consumer of its own (no group offsets, no
commits), to the end as of start-up before the first input batch, then keeps following them,
and hands the decoded records to the stage between batches (``on_side_input``).

Ordering. A producer may publish side-input records that its input records depend on (ingestion
lists a shard's instruments, and has them acknowledged, before the shard's first frame). An input
record consumed at time *t* was therefore produced after whatever it depends on, which is in the
side input by *t*. A stage that finds a dependency missing holds the record back
(``StreamDaemon.hold_for_side_inputs``): the runtime pauses the record's partition at that
record (later records of the partition wait behind it, so order is kept and nothing past it is
committed), asks the side inputs' ends as of now (a :class:`SideInputBarrier`), and resumes the
partition once the side inputs are read that far, or after ``side_input_wait_s``. Only then, if
the dependency is still missing, is the record a dead letter. :class:`PartitionHolds` is that
bookkeeping, without Kafka; :class:`SideInputReader` is the consumer; :class:`SideInputs` joins
them to the daemon's input consumer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

import msgspec
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Message, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

from platform_streams.kafka_clients import admin_settings, consumer_settings
from platform_streams.runtime.delivery import TopicPartitionKey
from platform_streams.settings import ConfigError

_LEADER_NOT_READY = {KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.LEADER_NOT_AVAILABLE}

log = logging.getLogger(__name__)


class SideInput(msgspec.Struct, frozen=True):
    """A compacted topic a stage reads whole: ``decode`` turns a record's value into what the stage
    gets (a tombstone, an empty value, is passed as None without decoding). A value ``decode``
    rejects with ``ValueError`` is logged and skipped. ``from_end`` reads only what arrives after
    start-up instead (a stream whose latest value is all that matters, such as top of book)."""

    topic: str
    decode: Callable[[bytes], Any]
    from_end: bool = False


class SideInputBarrier:
    """The side inputs' ends (next offset per partition) as of one moment, asked of the broker
    without blocking: ``ends`` is None until the answer is in."""

    __slots__ = ("_futures", "ends", "asked_at")

    def __init__(self, futures: dict[TopicPartition, Future], asked_at: float) -> None:
        self._futures = futures
        self.asked_at = asked_at
        self.ends: dict[TopicPartitionKey, int] | None = None if futures else {}

    def resolve(self) -> dict[TopicPartitionKey, int] | None:
        """The ends once every partition answered (a failed answer counts as "nothing to wait for")."""
        if self.ends is None and all(future.done() for future in self._futures.values()):
            ends: dict[TopicPartitionKey, int] = {}
            for tp, future in self._futures.items():
                try:
                    ends[(tp.topic, tp.partition)] = future.result().offset
                except KafkaException as exc:
                    log.warning("side input end unknown", extra={"topic": tp.topic, "partition": tp.partition, "error": str(exc)})
            self.ends = ends
        return self.ends


class SideInputReader:
    """Reads the declared side inputs from their beginning and keeps following them."""

    def __init__(
        self,
        bootstrap_servers: str,
        side_inputs: Sequence[SideInput],
        client_id: str,
        create_consumer: Callable[[dict[str, Any]], Consumer] = Consumer,
    ) -> None:
        self._inputs = {side_input.topic: side_input for side_input in side_inputs}
        # a group id of its own, never committed to: every start reads the side inputs whole
        settings = consumer_settings(
            bootstrap_servers,
            f"{client_id}-side-{time.time_ns()}",
            **{"client.id": f"{client_id}-side", "enable.partition.eof": True},
        )
        self._consumer = create_consumer(settings)
        self._admin = AdminClient(admin_settings(bootstrap_servers))
        deadline = time.monotonic() + 30
        self.partitions = self._partitions(deadline)
        self.positions: dict[TopicPartitionKey, int] = dict.fromkeys(self.partitions, 0)  # next offset to read
        for topic, partition in self.partitions:
            if self._inputs[topic].from_end:  # start at the end as of now, known at once (no end-of-partition event is owed)
                self.positions[(topic, partition)] = self._end_offset(topic, partition, deadline)
        self._consumer.assign(
            [
                TopicPartition(topic, partition, self.positions[(topic, partition)] or OFFSET_BEGINNING)
                for topic, partition in self.partitions
            ]
        )
        self.undecodable = 0

    def _end_offset(self, topic: str, partition: int, deadline: float) -> int:
        """A partition's end, asked again while its leader is not elected yet (topics created a moment
        before, as `tradeplat up` does just before starting the daemons)."""
        while True:
            try:
                return self._consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)[1]
            except KafkaException as error:
                if error.args[0].code() not in _LEADER_NOT_READY or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def _partitions(self, deadline: float) -> list[TopicPartitionKey]:
        """Every partition of every side input, asked again while a topic created a moment ago has none yet."""
        found: list[TopicPartitionKey] = []
        for topic in self._inputs:
            while True:
                metadata = self._consumer.list_topics(topic, timeout=10).topics.get(topic)
                if metadata is not None and metadata.error is None and metadata.partitions:
                    found += [(topic, partition) for partition in sorted(metadata.partitions)]
                    break
                if time.monotonic() > deadline:
                    self._consumer.close()
                    reason = metadata.error if metadata is not None and metadata.error is not None else "no partitions"
                    raise ConfigError(f"side input {topic!r} is not usable ({reason}): was it created (tradeplat topics)?")
                time.sleep(0.2)
        return found

    def barrier(self) -> SideInputBarrier:
        """Ask the side inputs' ends as of now (answered in the background)."""
        request = {TopicPartition(topic, partition): OffsetSpec.latest() for topic, partition in self.partitions}
        return SideInputBarrier(self._admin.list_offsets(request, request_timeout=10), time.monotonic())

    def reached(self, barrier: SideInputBarrier) -> bool:
        """Whether every side input has been read up to the barrier's ends (False while they are unknown)."""
        ends = barrier.resolve()
        if ends is None:
            return False
        positions = self.positions
        return all(positions.get(key, 0) >= end for key, end in ends.items())

    def poll(self, max_records: int = 10_000, timeout_s: float = 0.0) -> dict[str, list[Any]]:
        """Whatever arrived since the last call, decoded, by topic (waits up to ``timeout_s`` for the first)."""
        records: dict[str, list[Any]] = {}
        for message in self._consumer.consume(max_records, timeout_s):
            error = message.error()
            key = (message.topic(), message.partition())
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    self.positions[key] = max(self.positions.get(key, 0), message.offset())
                else:
                    log.warning("side input consumer error", extra={"error": str(error)})
                continue
            self.positions[key] = message.offset() + 1
            value = message.value()
            side_input = self._inputs[key[0]]
            try:
                decoded = side_input.decode(value) if value else None
            except ValueError as exc:
                self.undecodable += 1
                log.warning("undecodable side input record", extra={"topic": key[0], "error": str(exc)})
                continue
            records.setdefault(key[0], []).append(decoded)
        return records

    def catch_up(self, deliver: Callable[[dict[str, list[Any]]], None], timeout_s: float) -> bool:
        """Read every side input to its end as of now, handing records to ``deliver``; False if
        ``timeout_s`` passed first (the rest arrives later through :meth:`poll`)."""
        barrier = self.barrier()
        deadline = time.monotonic() + timeout_s
        while not self.reached(barrier):
            if time.monotonic() > deadline:
                return False
            records = self.poll(timeout_s=0.1)
            if records:
                deliver(records)
        return True

    def close(self) -> None:
        self._consumer.close()


class _Hold:
    __slots__ = ("offset", "since", "barrier")

    def __init__(self, offset: int, since: float) -> None:
        self.offset = offset
        self.since = since
        self.barrier: SideInputBarrier | None = None


class PartitionHolds:
    """Which input partitions wait for the side inputs, from which offset, and what a held record
    becomes when it comes back: the runtime's side of ``StreamDaemon.hold_for_side_inputs``.
    Pure bookkeeping over ``(topic, partition)`` keys and monotonic seconds."""

    def __init__(self, wait_s: float) -> None:
        self.wait_s = wait_s
        self.active: dict[TopicPartitionKey, _Hold] = {}  # paused at the held record
        self.fresh: list[TopicPartitionKey] = []  # held during the batch being handled: to pause and seek
        self._retrying: dict[TopicPartitionKey, tuple[int, str]] = {}  # resumed: the held offset, and why

    def hold(self, key: TopicPartitionKey, offset: int, now: float) -> str | None:
        """Hold the partition at ``offset``; None when held, or (for the record a released hold comes
        back with) why it is a dead letter now."""
        retry = self._retrying.get(key)
        if retry is not None and retry[0] == offset:
            del self._retrying[key]
            return retry[1]
        if key not in self.active:
            self.active[key] = _Hold(offset, now)
            self.fresh.append(key)
        return None

    def take_fresh(self, barrier: Callable[[], SideInputBarrier]) -> dict[TopicPartitionKey, int]:
        """The partitions held since the last call, with their offsets; they share one new barrier
        (asked after every one of their records was consumed, so it covers what they depend on)."""
        if not self.fresh:
            return {}
        shared = barrier()
        fresh = {}
        for key in self.fresh:
            hold = self.active[key]
            hold.barrier = shared
            fresh[key] = hold.offset
        self.fresh = []
        return fresh

    def due(self, now: float, reached: Callable[[SideInputBarrier], bool]) -> list[TopicPartitionKey]:
        """Partitions to resume: their barrier is reached, or they waited ``wait_s``."""
        resumed = []
        for key, hold in list(self.active.items()):
            if hold.barrier is None:
                continue
            if reached(hold.barrier):
                why = "still missing after the side inputs were read to their end as of the hold"
            elif now - hold.since >= self.wait_s:
                why = f"the side inputs did not catch up within {self.wait_s:g} s"
            else:
                continue
            del self.active[key]
            self._retrying[key] = (hold.offset, why)
            resumed.append(key)
        return resumed

    def passed(self, key: TopicPartitionKey, next_offset: int) -> None:
        """The partition's records before ``next_offset`` were handled: a resumed hold they include is over."""
        retry = self._retrying.get(key)
        if retry is not None and next_offset > retry[0] and key not in self.active:
            del self._retrying[key]

    def forget(self, keys: Sequence[TopicPartitionKey]) -> None:
        """Partitions this consumer no longer owns: whoever owns them next reads the held records again."""
        for key in keys:
            self.active.pop(key, None)
            self._retrying.pop(key, None)
            if key in self.fresh:
                self.fresh.remove(key)


class SideInputs:
    """A daemon's side inputs and the input partitions held for them, driven from its consume loop."""

    def __init__(self, reader: SideInputReader, deliver: Callable[[str, list[Any]], None], wait_s: float) -> None:
        self.reader = reader
        self.holds = PartitionHolds(wait_s)
        self._deliver = deliver
        self.wait_s = wait_s

    def start(self) -> None:
        """Read every side input to its end as of now (bounded by ``wait_s``) before the first batch."""
        if not self.reader.catch_up(self._hand_over, self.wait_s):
            log.warning(
                "side inputs not read to their end at start-up; records that need them wait",
                extra={"partitions": len(self.reader.partitions), "waited_s": self.wait_s},
            )

    def _hand_over(self, records: dict[str, list[Any]]) -> None:
        for topic, decoded in records.items():
            self._deliver(topic, decoded)

    def serve(self, consumer: Consumer | None) -> None:
        """Between batches: hand over what the side inputs brought, and resume held partitions that may go on."""
        records = self.reader.poll()
        if records:
            self._hand_over(records)
        if self.holds.active:
            resumed = self.holds.due(time.monotonic(), self.reader.reached)
            if resumed and consumer is not None:
                consumer.resume([TopicPartition(topic, partition) for topic, partition in resumed])

    def hold(self, message: Message) -> str | None:
        """Hold ``message``'s partition at it; None when held, else why it is a dead letter now."""
        return self.holds.hold((message.topic(), message.partition()), message.offset(), time.monotonic())

    def held(self, message: Message) -> bool:
        active = self.holds.active
        return bool(active) and (message.topic(), message.partition()) in active

    def after_handle(self, consumer: Consumer, offsets: dict[TopicPartitionKey, int]) -> int:
        """Pause newly held partitions at their held record, and commit no held partition past it
        (later records of it in the batch were skipped and will be read again); returns how many
        partitions were newly held."""
        fresh = self.holds.take_fresh(self.reader.barrier)
        if fresh:
            held = [TopicPartition(topic, partition, offset) for (topic, partition), offset in fresh.items()]
            consumer.pause(held)
            for tp in held:
                consumer.seek(tp)
            log.info("partitions held for side inputs", extra={"partitions": [f"{t}[{p}]@{o}" for (t, p), o in fresh.items()]})
        active = self.holds.active
        for key, next_offset in offsets.items():
            hold = active.get(key)
            if hold is not None:
                offsets[key] = hold.offset
            else:
                self.holds.passed(key, next_offset)
        return len(fresh)

    def close(self) -> None:
        self.reader.close()
