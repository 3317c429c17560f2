"""Reads the compacted ``ref.instrument`` topic: every exchange's instruments, kept current."""

from __future__ import annotations

import logging
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition

from platform_streams.exchanges.instruments import InstrumentRegistry
from platform_streams.kafka_clients import consumer_settings
from platform_streams.schemas import EventDecodeError, Instrument, TypedDecoder
from platform_streams.settings import ConfigError
from platform_streams.topics import INSTRUMENT_TOPIC

log = logging.getLogger(__name__)

_ELECTING = {
    KafkaError.NOT_LEADER_FOR_PARTITION,
    KafkaError.LEADER_NOT_AVAILABLE,
    KafkaError.UNKNOWN_TOPIC_OR_PART,
    KafkaError._TIMED_OUT,
}


class InstrumentCatalog:
    """Registries per exchange, built from ``ref.instrument`` (no consumer group: it always reads it all)."""

    def __init__(self, bootstrap_servers: str, topic: str = INSTRUMENT_TOPIC) -> None:
        self._consumer = Consumer(consumer_settings(bootstrap_servers, f"instrument-catalog-{time.time_ns()}"))
        partitions = self._partitions_of(topic, deadline=time.monotonic() + 30)
        self._consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        self._topic = topic
        self._partitions = partitions
        self._positions = dict.fromkeys(partitions, 0)  # next offset to read, per partition
        self._decoder = TypedDecoder(Instrument)
        self.registries: dict[str, InstrumentRegistry] = {}

    def _partitions_of(self, topic: str, deadline: float) -> list[int]:
        """The topic's partitions, asked again while a topic created a moment ago has none in the metadata yet."""
        while True:
            metadata = self._consumer.list_topics(topic, timeout=10).topics.get(topic)
            if metadata is not None and metadata.error is None and metadata.partitions:
                return sorted(metadata.partitions)
            if time.monotonic() > deadline:
                self._consumer.close()
                reason = metadata.error if metadata is not None and metadata.error is not None else "no partitions"
                raise ConfigError(f"instrument topic {topic!r} is not usable ({reason}): was it created (tradeplat topics)?")
            time.sleep(0.2)

    def load_all(self, timeout_s: float = 30.0) -> set[str]:
        """Read up to the current end of every partition (whatever was published before this call);
        returns the exchanges whose instruments changed."""
        deadline = time.monotonic() + timeout_s
        ends = {p: self._high_watermark(p, deadline) for p in self._partitions}
        positions = self._positions
        changed: set[str] = set()
        while any(positions[p] < ends[p] for p in self._partitions) and time.monotonic() < deadline:
            changed |= self._consume(0.2)
        return changed

    def _high_watermark(self, partition: int, deadline: float) -> int:
        """The partition's end, retried while a just-created topic elects its leaders."""
        while True:
            try:
                return self._consumer.get_watermark_offsets(TopicPartition(self._topic, partition), timeout=10)[1]
            except KafkaException as exc:
                if exc.args[0].code() not in _ELECTING or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def poll_updates(self) -> set[str]:
        """Apply whatever arrived since; returns the exchanges whose instruments changed."""
        return self._consume(0)

    def _consume(self, timeout_s: float) -> set[str]:
        changed: set[str] = set()
        for message in self._consumer.consume(1000, timeout_s):
            if message.error() is None:
                self._positions[message.partition()] = message.offset() + 1
                changed |= self._apply(message.value())
        return changed

    def _apply(self, payload: bytes | None) -> set[str]:
        if not payload:
            return set()  # a tombstone
        try:
            instrument = self._decoder.decode(payload)
        except EventDecodeError as exc:
            log.warning("undecodable instrument record", extra={"error": str(exc)})
            return set()
        registry = self.registries.setdefault(instrument.exchange, InstrumentRegistry(instrument.exchange))
        if registry.get_symbol(instrument.symbol) == instrument:
            return set()
        registry.add(instrument)
        return {instrument.exchange}

    def close(self) -> None:
        self._consumer.close()
