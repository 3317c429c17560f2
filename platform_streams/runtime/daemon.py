"""StreamDaemon: the consume → handle → produce → commit loop, with its delivery guarantee.

Delivery semantics (at-least-once):
1. a batch is consumed (``poll`` for the first message, then whatever is already
   fetched, up to ``batch_max``; no waiting to fill a batch);
2. the stage's pure ``handle(batch)`` returns outputs; a message on which it
   raises is dead-lettered with the reason instead (see ``isolation``);
3. outputs are handed to the producer with a delivery callback per batch ticket;
4. input offsets are committed only once every output of their batch and of all
   earlier batches is acknowledged by the broker.
A crash anywhere therefore re-delivers, never skips; consumers drop duplicates by
event id. On SIGTERM/SIGINT the loop finishes its batch, flushes, commits and
leaves the group; a restart resumes from the committed offsets.

A stage may also declare side inputs (compacted topics it reads whole, see
``side_inputs``): the runtime reads them to their end before the first batch, hands their
records to the stage between batches, and holds back an input partition whose record
depends on a side-input record not read yet, without committing past it.
"""

from __future__ import annotations

import abc
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from platform_streams.kafka_clients import ConsumerProfile, consumer_settings
from platform_streams.runtime.delivery import DeliveryFailed, DeliveryTracker, TopicPartitionKey
from platform_streams.runtime.isolation import handle_isolating_failures
from platform_streams.runtime.lifecycle import BaseSettings, DaemonLifecycle
from platform_streams.runtime.output import Output
from platform_streams.runtime.side_inputs import SideInput, SideInputReader, SideInputs
from platform_streams.runtime.storage import split_records, store_isolating_failures
from platform_streams.runtime.watchdog import StallWatchdog
from platform_streams.runtime.watermarks import WatermarkPoller
from platform_streams.schemas import PartitionLag

log = logging.getLogger(__name__)

_NOTHING_HELD: Mapping[TopicPartitionKey, object] = {}

WATERMARK_TIMEOUT_S = 5.0


class DaemonSettings(BaseSettings, kw_only=True):
    """Settings of a consuming daemon; a stage extends this struct with its own fields."""

    inputs: list[str]
    group: str = ""
    batch_max: int = 5_000
    poll_timeout_ms: int = 100
    commit_interval_ms: int = 100
    watchdog_interval_s: float = 2.0
    stall_timeout_s: float = 30.0
    side_input_wait_s: float = 30.0  # how long a record waits for the side inputs before it may be dead-lettered

    def resolved_group(self) -> str:
        return self.group or self.name


class StreamDaemon(DaemonLifecycle, abc.ABC):
    """Base of every consuming stage: subclass, implement :meth:`handle`, call :meth:`run`."""

    settings: DaemonSettings
    consumer_profile: ClassVar[ConsumerProfile] = ConsumerProfile.LATENCY
    """How this kind's consumer fetches (``platform_streams.kafka_clients``)."""

    def __init__(self, settings: DaemonSettings) -> None:
        super().__init__(settings)
        self.group = settings.resolved_group()
        self._tracker = DeliveryTracker()
        # watermarks older than this mean the broker is not answering: no stall can be judged then
        watermarks_stale_s = 2 * settings.watchdog_interval_s + WATERMARK_TIMEOUT_S
        self._watchdog = StallWatchdog(int(settings.stall_timeout_s * 1e9), int(watermarks_stale_s * 1e9))
        self._watermarks = WatermarkPoller(self.bootstrap_servers, self.group, settings.watchdog_interval_s, WATERMARK_TIMEOUT_S)
        self._assigned: set[TopicPartitionKey] = set()
        self._positions: dict[TopicPartitionKey, int] = {}
        self._consumer: Consumer | None = None
        self._next_commit = 0.0
        self._next_watchdog = 0.0
        self._side_inputs: SideInputs | None = None
        self.batch_observer: Any = None  # optional callable(n_messages, consumed_ns, handed_ns) for benchmarks

    # -- the stage's contract ---------------------------------------------------------
    @abc.abstractmethod
    def handle(self, batch: Sequence[Message]) -> Iterable[Output]:
        """Turn a batch of input messages into outputs. Pure: no I/O, no side effects that
        survive an exception (the runtime may call it again message by message)."""

    def side_inputs(self) -> Sequence[SideInput]:
        """The compacted topics this stage reads whole beside its inputs (none by default)."""
        return ()

    def on_side_input(self, topic: str, records: list[Any]) -> None:
        """Records of a side input, decoded, in order (None for a tombstone); called between batches,
        and before the first batch for everything up to the side input's end at start-up."""
        raise NotImplementedError(f"{type(self).__name__} declares side inputs but does not take their records")

    def hold_for_side_inputs(self, message: Message, error: Exception) -> Output | None:
        """From ``handle``: ``message`` needs a side-input record this stage has not got (``error`` says
        which). Returns None when the message is held: skip it, and every later message of its
        partition in the batch (:meth:`held`); it comes back once the side inputs are read to their
        end as of now (or after ``side_input_wait_s``). Returns its dead letter when it has come
        back and is handed here again."""
        if self._side_inputs is None:
            raise RuntimeError(f"{type(self).__name__} holds a message for side inputs it does not declare")
        why = self._side_inputs.hold(message)
        return None if why is None else self.dead_letter(message, error, why)

    def held(self, message: Message) -> bool:
        """Whether ``message``'s partition is held: ``handle`` must skip it (it comes back later, in order)."""
        return self._side_inputs is not None and self._side_inputs.held(message)

    @property
    def held_partitions(self) -> Mapping[TopicPartitionKey, object]:
        """The held partitions by ``(topic, partition)``, live (a hold made during ``handle`` is in it at
        once): a hot ``handle`` reads it once per batch and tests membership only when it is not empty."""
        return self._side_inputs.holds.active if self._side_inputs is not None else _NOTHING_HELD

    def on_batch_handed(self, messages: int, consumed_ns: int, handed_ns: int) -> None:
        """Called once a batch's outputs are with the producer (``perf_counter_ns`` times), for
        latency metrics; calls ``batch_observer`` when a benchmark set one."""
        if self.batch_observer is not None:
            self.batch_observer(messages, consumed_ns, handed_ns)

    def store(self, records: list[Any]) -> None:
        """Write the non-Kafka records ``handle`` returned (database rows) before the batch commits.

        Raise :class:`TransientStoreError` for failures worth retrying; anything else is
        treated as bad data and isolated to dead letters. Stages that only produce to
        Kafka never return such records."""
        raise TypeError(f"{type(self).__name__}.handle returned {type(records[0]).__name__} records but defines no store()")

    def create_consumer(self, settings: dict[str, Any]) -> Consumer:
        """Build the Kafka consumer (a seam for conformance tests that simulate a stalled client)."""
        return Consumer(settings)

    def create_side_input_consumer(self, settings: dict[str, Any]) -> Consumer:
        """Build the side inputs' consumer (a seam for tests that simulate a lagging side input)."""
        return Consumer(settings)

    # -- the loop -------------------------------------------------------------------------
    def run(self) -> None:
        """Run until :meth:`stop` or a signal; then drain, commit and close."""
        self.install_signal_handlers()
        self.serve_metrics()
        self._watermarks.start()
        self._start_side_inputs()
        self._consumer = self._subscribe()
        self._state = "running"
        log.info("daemon started", extra={"daemon": self.settings.name, "instance": self.instance, "group": self.group})
        try:
            while not self.stopping:
                self._step()
        finally:
            self._shutdown()

    def _subscribe(self) -> Consumer:
        settings = consumer_settings(
            self.bootstrap_servers,
            self.group,
            self.settings.kafka.consumer,
            self.consumer_profile,
            **{"client.id": self.instance},
        )
        consumer = self.create_consumer(settings)
        consumer.subscribe(self.settings.inputs, on_assign=self._on_assign, on_revoke=self._on_revoke, on_lost=self._on_lost)
        return consumer

    def _start_side_inputs(self) -> None:
        declared = self.side_inputs()
        if declared:
            reader = SideInputReader(self.bootstrap_servers, declared, self.instance, self.create_side_input_consumer)
            self._side_inputs = SideInputs(reader, self.on_side_input, self.settings.side_input_wait_s)
            self._side_inputs.start()

    def _step(self) -> None:
        assert self._consumer is not None
        if self._side_inputs is not None:
            self._side_inputs.serve(self._consumer)
        first = self._consumer.poll(self.settings.poll_timeout_ms / 1000)
        if first is not None:
            batch = [first]
            if self.settings.batch_max > 1:
                batch.extend(self._consumer.consume(self.settings.batch_max - 1, 0))
            self._process(batch)
        self.producers.poll()
        now = time.monotonic()
        if now >= self._next_commit:
            self._next_commit = now + self.settings.commit_interval_ms / 1000
            self._commit(asynchronous=True)
        if now >= self._next_watchdog:
            self._next_watchdog = now + self.settings.watchdog_interval_s
            self._check_progress()
        if self.heartbeat_due(now):
            self.send_heartbeat(self._lags(), self.group)
        self.periodic()

    def periodic(self) -> None:
        """Called on every turn of the loop, batch or not (time-driven work such as flushing
        derived state); must be quick and handle its own errors. Does nothing by default."""

    def _process(self, batch: list[Message]) -> None:
        consumed_ns = time.perf_counter_ns()
        good: list[Message] = []
        offsets: dict[TopicPartitionKey, int] = {}
        for message in batch:
            if message.error() is not None:
                self._consumer_error(message.error())
                continue
            offsets[(message.topic(), message.partition())] = message.offset() + 1
            good.append(message)
        outputs, failures = handle_isolating_failures(self.handle, good)
        outputs, records = split_records(outputs)
        if records:
            failed = {id(message) for message, _ in failures}
            handled = [m for m in good if id(m) not in failed]
            stored_outputs, store_failures = store_isolating_failures(
                self.store, self.handle, handled, records, lambda: self.stopping, self._on_store_retry, self._wait_blocked
            )
            if self._state == "blocked":
                self._state = "running"
            if store_failures:  # only then were outputs rebuilt per message: keep the stored ones
                outputs = stored_outputs
            failures.extend(store_failures)
        for message, error in failures:
            outputs.append(self.dead_letter(message, error))
        if self._side_inputs is not None:
            assert self._consumer is not None
            self.metrics.side_input_holds.inc(self._side_inputs.after_handle(self._consumer, offsets))
        ticket = self._tracker.open(offsets)
        for output in outputs:
            ticket.pending += 1
            self.producers.produce(output, ticket.on_delivery)
        ticket.sealed = True
        handed_ns = time.perf_counter_ns()
        self._positions.update(offsets)
        self.messages_in += len(good)
        self.messages_out += len(outputs)
        self.metrics.messages_in.inc(len(good))
        self.metrics.messages_out.inc(len(outputs))
        self.metrics.batch_size.observe(len(batch))
        self.metrics.batch_seconds.observe((handed_ns - consumed_ns) / 1e9)
        self.on_batch_handed(len(good), consumed_ns, handed_ns)

    def _on_store_retry(self, error: Exception) -> None:
        """A write failed transiently (the database is away): say so in heartbeats until it succeeds."""
        self.record_error("store_retry", error)
        self._state = "blocked"

    def _wait_blocked(self, seconds: float) -> None:
        """Wait out a store retry's backoff, still sending heartbeats and serving deliveries meanwhile."""
        deadline = time.monotonic() + seconds
        while not self.stopping:
            self.producers.poll()
            now = time.monotonic()
            if self.heartbeat_due(now):
                self.send_heartbeat(self._lags(), self.group)
            if now >= deadline:
                return
            time.sleep(min(0.25, deadline - now))

    def _consumer_error(self, error: KafkaError) -> None:
        self.record_error("consumer", error.str())
        if error.fatal():
            raise KafkaException(error)
        log.warning("consumer error", extra={"error": str(error)})

    # -- commits ----------------------------------------------------------------------------
    def _commit(self, asynchronous: bool) -> None:
        self.metrics.in_flight.set(self._tracker.in_flight)
        try:
            offsets = self._tracker.committable()
        except DeliveryFailed as exc:
            self.record_error("delivery", exc)
            raise
        if not offsets or self._consumer is None:
            return
        partitions = [TopicPartition(topic, partition, offset) for (topic, partition), offset in offsets.items()]
        try:
            self._consumer.commit(offsets=partitions, asynchronous=asynchronous)
            self.metrics.commits.inc()
        except KafkaException as exc:
            # a commit lost to a rebalance is harmless: the new owner re-reads and dedupes
            self.record_error("commit", exc)
            log.warning("commit failed", extra={"error": str(exc)})

    def _drain(self, timeout_s: float) -> None:
        """Wait for every output in flight, then commit synchronously."""
        remaining = self.producers.flush(timeout_s)
        if remaining:
            log.error("outputs still undelivered at drain; their inputs stay uncommitted", extra={"undelivered": remaining})
        self._commit(asynchronous=False)

    def rewind(self, offsets: Mapping[TopicPartitionKey, int]) -> list[TopicPartitionKey]:
        """Read these input partitions again from these offsets (between batches only, e.g. from
        ``on_side_input``: a stage replaying input for state it rebuilds). Partitions not assigned
        here are skipped; returns the ones rewound. Commits may go back with them: at-least-once."""
        if self._consumer is None:
            return []
        rewound: list[TopicPartitionKey] = []
        for (topic, partition), offset in offsets.items():
            if (topic, partition) not in self._assigned:
                continue
            try:
                self._consumer.seek(TopicPartition(topic, partition, offset))
            except KafkaException as exc:
                log.warning("rewind failed", extra={"partition": f"{topic}[{partition}]@{offset}", "error": str(exc)})
                continue
            rewound.append((topic, partition))
        return rewound

    # -- rebalances ---------------------------------------------------------------------------
    def _on_assign(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._assigned.update((tp.topic, tp.partition) for tp in partitions)
        self._watermarks.track(frozenset(self._assigned))
        log.info("partitions assigned", extra={"count": len(partitions), "total": len(self._assigned)})

    def _on_revoke(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._drain(self.settings.shutdown_timeout_s)
        self._release(partitions)

    def _on_lost(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._tracker.forget((tp.topic, tp.partition) for tp in partitions)
        self._release(partitions)

    def _release(self, partitions: list[TopicPartition]) -> None:
        if self._side_inputs is not None:
            self._side_inputs.holds.forget([(tp.topic, tp.partition) for tp in partitions])
        for tp in partitions:
            self._assigned.discard((tp.topic, tp.partition))
            self._positions.pop((tp.topic, tp.partition), None)
        self._watermarks.track(frozenset(self._assigned))
        self.on_partitions_released([(tp.topic, tp.partition) for tp in partitions])

    def on_partitions_released(self, partitions: list[TopicPartitionKey]) -> None:
        """Called when partitions are revoked (after their outputs are flushed and committed) or lost
        (a broker outage or a session timeout: they may come back later, from committed offsets). A
        stateful stage forgets the state it built from them here. Does nothing by default."""

    # -- lag and the stall watchdog -------------------------------------------------------------
    def _current_positions(self) -> dict[TopicPartitionKey, int]:
        snapshot = self._watermarks.snapshot
        positions: dict[TopicPartitionKey, int] = {}
        for key in self._assigned:
            position = self._positions.get(key)
            if position is None:  # nothing consumed here yet: we start at the committed offset
                position = max(snapshot.committed.get(key, 0), snapshot.low.get(key, 0))
            positions[key] = position
        return positions

    def _lags(self) -> list[PartitionLag]:
        high = self._watermarks.snapshot.high
        lags = []
        for (topic, partition), position in sorted(self._current_positions().items()):
            hw = high.get((topic, partition), position)
            lags.append(PartitionLag(topic, partition, position, hw))
            self.metrics.set_lag(topic, partition, max(hw - position, 0))
        return lags

    def _check_progress(self) -> None:
        snapshot = self._watermarks.snapshot
        if not snapshot.read_at_ns:
            return
        positions = self._current_positions()
        if self._side_inputs is not None:
            for key in self._side_inputs.holds.active:  # held on purpose, not stalled
                positions.pop(key, None)
        stalled = self._watchdog.observe(time.time_ns(), positions, snapshot.high, snapshot.read_at_ns)
        if stalled:
            self._recover_stalled_consumer(stalled)

    def _recover_stalled_consumer(self, stalled: list[TopicPartitionKey]) -> None:
        """Recreate the consumer: it resumes from the committed offsets, so nothing is skipped."""
        self.metrics.stall_recoveries.inc()
        log.warning(
            "consumer stalled; recreating it from committed offsets",
            extra={"partitions": [f"{t}[{p}]" for t, p in stalled], "stall_timeout_s": self.settings.stall_timeout_s},
        )
        assert self._consumer is not None
        self._drain(self.settings.shutdown_timeout_s)
        self._consumer.close()
        if self._side_inputs is not None:
            self._side_inputs.holds.forget(list(self._assigned))
        self._assigned.clear()
        self._positions.clear()
        self._watchdog.reset()
        self._watermarks.track(frozenset())
        self._consumer = self._subscribe()

    # -- shutdown ---------------------------------------------------------------------------------
    def _shutdown(self) -> None:
        self._state = "stopping"
        try:
            if self._consumer is not None:
                self._drain(self.settings.shutdown_timeout_s)
                self._consumer.close()
                self._consumer = None
        finally:
            self._state = "stopped"
            self.send_heartbeat([], self.group)
            self.producers.flush(5.0)
            self._watermarks.stop()
            if self._side_inputs is not None:
                self._side_inputs.close()
            log.info("daemon stopped", extra={"messages_in": self.messages_in, "messages_out": self.messages_out})
