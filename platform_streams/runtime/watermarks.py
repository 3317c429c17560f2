"""Background reading of high watermarks and committed offsets, off the consume loop.

Asking the broker per partition is a round trip each; doing it on the loop would
stall the latency-critical path, so a thread with its own admin client refreshes a
snapshot the loop reads without blocking.
"""

from __future__ import annotations

import logging
import threading
import time

from confluent_kafka import ConsumerGroupTopicPartitions, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

from platform_streams.kafka_clients import admin_settings
from platform_streams.runtime.delivery import TopicPartitionKey

log = logging.getLogger(__name__)


class WatermarkSnapshot:
    """Offsets read at one moment: high/low watermarks and the group's committed offsets."""

    __slots__ = ("high", "low", "committed", "read_at_ns")

    def __init__(self) -> None:
        self.high: dict[TopicPartitionKey, int] = {}
        self.low: dict[TopicPartitionKey, int] = {}
        self.committed: dict[TopicPartitionKey, int] = {}
        self.read_at_ns = 0


class WatermarkPoller:
    """Refreshes a :class:`WatermarkSnapshot` of the assigned partitions every ``interval_s``."""

    def __init__(self, bootstrap_servers: str, group_id: str, interval_s: float, timeout_s: float = 5.0) -> None:
        self._bootstrap_servers = bootstrap_servers
        self._admin = AdminClient(admin_settings(bootstrap_servers))
        self._group_id = group_id
        self._interval_s = interval_s
        self._timeout_s = timeout_s
        self._partitions: frozenset[TopicPartitionKey] = frozenset()
        self.snapshot = WatermarkSnapshot()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="watermarks", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self._timeout_s + 1)

    def track(self, partitions: frozenset[TopicPartitionKey]) -> None:
        """Set the partitions to watch (called by the loop on assignment changes)."""
        self._partitions = partitions

    def refresh(self) -> None:
        partitions = self._partitions
        snapshot = WatermarkSnapshot()
        if partitions:
            tps = [TopicPartition(topic, partition) for topic, partition in partitions]
            snapshot.high = self._list_offsets(tps, OffsetSpec.latest())
            snapshot.low = self._list_offsets(tps, OffsetSpec.earliest())
            snapshot.committed = self._committed(tps)
        snapshot.read_at_ns = time.time_ns()
        self.snapshot = snapshot

    def _list_offsets(self, tps: list[TopicPartition], spec: OffsetSpec) -> dict[TopicPartitionKey, int]:
        futures = self._admin.list_offsets({tp: spec for tp in tps}, request_timeout=self._timeout_s)
        result: dict[TopicPartitionKey, int] = {}
        for tp, future in futures.items():
            result[(tp.topic, tp.partition)] = future.result().offset
        return result

    def _committed(self, tps: list[TopicPartition]) -> dict[TopicPartitionKey, int]:
        request = [ConsumerGroupTopicPartitions(self._group_id, tps)]
        futures = self._admin.list_consumer_group_offsets(request, request_timeout=self._timeout_s)
        result: dict[TopicPartitionKey, int] = {}
        for future in futures.values():
            for tp in future.result().topic_partitions:
                if tp.offset >= 0:
                    result[(tp.topic, tp.partition)] = tp.offset
        return result

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.refresh()
            except KafkaException as exc:
                log.warning("cannot read watermarks", extra={"error": str(exc)})
                # after a broker restart the admin client may keep asking with leader epochs the broker
                # has fenced (FENCED_LEADER_EPOCH) for a long while; a new client starts from fresh metadata
                self._admin = AdminClient(admin_settings(self._bootstrap_servers))
            self._stop.wait(self._interval_s)
