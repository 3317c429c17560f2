"""Follows one topic in a background thread, for the supervisor (heartbeats, deployment requests).

It must outlive the broker: when the broker is down (or not up yet) it keeps trying, and after a
restart it reads on from where it was, so records queued during an outage arrive late rather than
never. If no usable partition list can be had, or the client reports a fatal error, the consumer
is recreated and resumes at the offsets it had reached. No consumer group offsets are committed.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable

from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, Consumer, KafkaException, TopicPartition

log = logging.getLogger(__name__)

RETRY_S = 1.0

RecordHandler = Callable[[bytes | None, bytes | None], None]
"""Called on the follower's thread with each record's key and value (None: a tombstone)."""


class TopicFollower:
    """Reads ``topic`` from its beginning (a compacted topic read whole) or from its end (only what
    arrives from now on) and hands every record to ``on_record``. ``caught_up`` is set once the
    records the topic held when it was first assigned have been handed over."""

    def __init__(self, bootstrap_servers: str, topic: str, on_record: RecordHandler, from_beginning: bool) -> None:
        self._settings = {
            "bootstrap.servers": bootstrap_servers,
            "group.id": f"tradeplat-follower-{uuid.uuid4().hex}",  # required by the client; never committed
            "enable.auto.commit": False,
            "log_level": 0,  # the broker being down is reported by the server probes, not once a second here
        }
        self._topic = topic
        self._on_record = on_record
        self._start = OFFSET_BEGINNING if from_beginning else OFFSET_END
        self._positions: dict[int, int] = {}  # partition -> next offset to read
        self._ends: dict[int, int] | None = None  # what must be read before caught_up, once known
        self.caught_up = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"follow-{topic}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            consumer = Consumer(self._settings)
            try:
                self._follow(consumer)
            except KafkaException as exc:
                log.warning("reading %s interrupted; reconnecting", self._topic, extra={"error": str(exc)})
            finally:
                consumer.close()
            self._stop.wait(RETRY_S)

    def _follow(self, consumer: Consumer) -> None:
        """Assign every partition where we left it (else at the start), then read until stopped."""
        topic = consumer.list_topics(self._topic, timeout=5).topics.get(self._topic)
        if topic is None or topic.error is not None or not topic.partitions:
            raise KafkaException(topic.error if topic is not None and topic.error is not None else "no partitions yet")
        if self._ends is None:
            ends = {}
            for partition in topic.partitions if self._start == OFFSET_BEGINNING else ():
                low, high = consumer.get_watermark_offsets(TopicPartition(self._topic, partition), timeout=5)
                if high > low:
                    ends[partition] = high
            self._ends = ends
            self._check_caught_up()
        consumer.assign([TopicPartition(self._topic, p, self._positions.get(p, self._start)) for p in topic.partitions])
        while not self._stop.is_set():
            message = consumer.poll(0.5)
            if message is None:
                continue
            error = message.error()
            if error is not None:
                if error.fatal():
                    raise KafkaException(error)
                continue  # transport errors while the broker is away: the client reconnects by itself
            self._positions[message.partition()] = message.offset() + 1
            try:
                self._on_record(message.key(), message.value())
            except Exception:  # a handler's bug must not end the supervisor's view of the topic
                log.exception("a record of %s could not be handled", self._topic)
            self._check_caught_up()

    def _check_caught_up(self) -> None:
        if self.caught_up.is_set() or self._ends is None:
            return
        if all(self._positions.get(p, 0) >= end for p, end in self._ends.items()):
            self.caught_up.set()
