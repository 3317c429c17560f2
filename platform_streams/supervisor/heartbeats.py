"""Tails ``ctl.heartbeat`` and keeps the latest heartbeat of each daemon instance."""

from __future__ import annotations

import logging
import threading

from confluent_kafka import OFFSET_END, Consumer, KafkaException, TopicPartition

from platform_streams.schemas import EventDecodeError, Heartbeat, TypedDecoder
from platform_streams.topics import HEARTBEAT_TOPIC

log = logging.getLogger(__name__)


class HeartbeatListener:
    """Background reader of heartbeats (no consumer group: it reads from the end, commits nothing)."""

    def __init__(self, bootstrap_servers: str, topic: str = HEARTBEAT_TOPIC) -> None:
        self._settings = {
            "bootstrap.servers": bootstrap_servers,
            "group.id": "tradeplat-heartbeat-listener",  # required by the client; offsets are never committed
            "enable.auto.commit": False,
            "log_level": 3,
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
        self._thread.join(timeout=5)

    def _run(self) -> None:
        consumer = Consumer(self._settings)
        try:
            partitions = consumer.list_topics(self._topic, timeout=10).topics[self._topic].partitions
            consumer.assign([TopicPartition(self._topic, p, OFFSET_END) for p in partitions])
            while not self._stop.is_set():
                message = consumer.poll(0.5)
                if message is None or message.error() is not None:
                    continue
                try:
                    beat = self._decoder.decode(message.value())
                except EventDecodeError as exc:
                    log.warning("undecodable heartbeat", extra={"error": str(exc)})
                    continue
                self.latest[beat.instance] = beat
        except KafkaException as exc:
            log.warning("heartbeat listener stopped", extra={"error": str(exc)})
        finally:
            consumer.close()
