"""Tails ``ctl.heartbeat`` and keeps the latest heartbeat of each daemon instance.

It must outlive the broker: when the broker is down (or not up yet) it keeps trying, and
after a restart it reads on from where it was, so heartbeats the daemons queued during the
outage arrive late rather than never. If no usable partition list can be had, or the client
reports a fatal error, the consumer is recreated.
"""

from __future__ import annotations

import logging
import threading

from confluent_kafka import OFFSET_END, Consumer, KafkaException, TopicPartition

from platform_streams.schemas import EventDecodeError, Heartbeat, TypedDecoder
from platform_streams.topics import HEARTBEAT_TOPIC

log = logging.getLogger(__name__)

RETRY_S = 1.0


class HeartbeatListener:
    """Background reader of heartbeats (no consumer group: it reads from the end, commits nothing)."""

    def __init__(self, bootstrap_servers: str, topic: str = HEARTBEAT_TOPIC) -> None:
        self._settings = {
            "bootstrap.servers": bootstrap_servers,
            "group.id": "tradeplat-heartbeat-listener",  # required by the client; offsets are never committed
            "enable.auto.commit": False,
            "log_level": 0,  # the broker being down is reported by the server probes, not once a second here
        }
        self._topic = topic
        self._decoder = TypedDecoder(Heartbeat)
        self.latest: dict[str, Heartbeat] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeats", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            consumer = Consumer(self._settings)
            try:
                self._listen(consumer)
            except KafkaException as exc:
                log.warning("heartbeat listener interrupted; reconnecting", extra={"error": str(exc)})
            finally:
                consumer.close()
            self._stop.wait(RETRY_S)

    def _listen(self, consumer: Consumer) -> None:
        """Assign every partition at its end, then read until stopped (or a fatal client error)."""
        topic = consumer.list_topics(self._topic, timeout=5).topics.get(self._topic)
        if topic is None or topic.error is not None or not topic.partitions:
            raise KafkaException(topic.error if topic is not None and topic.error is not None else "no partitions yet")
        consumer.assign([TopicPartition(self._topic, p, OFFSET_END) for p in topic.partitions])
        while not self._stop.is_set():
            message = consumer.poll(0.5)
            if message is None:
                continue
            error = message.error()
            if error is not None:
                if error.fatal():
                    raise KafkaException(error)
                continue  # transport errors while the broker is away: the client reconnects by itself
            try:
                beat = self._decoder.decode(message.value())
            except EventDecodeError as exc:
                log.warning("undecodable heartbeat", extra={"error": str(exc)})
                continue
            self.latest[beat.instance] = beat
