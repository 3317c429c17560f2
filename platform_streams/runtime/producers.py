"""The daemon's producers: one per profile (latency, bulk), chosen by the output's topic."""

from __future__ import annotations

import logging
from collections.abc import Callable

from confluent_kafka import KafkaException, Producer

from platform_streams.kafka_clients import KafkaOverrides, ProducerProfile, producer_settings
from platform_streams.runtime.output import Output
from platform_streams.topics import profile_of

log = logging.getLogger(__name__)

DeliveryCallback = Callable[[object, object], None]


class OutputProducers:
    """Routes each output to the producer tuned for its topic; creates producers lazily."""

    def __init__(
        self, bootstrap_servers: str, overrides: KafkaOverrides, client_id: str, *, failed_deliveries_only: bool = False
    ) -> None:
        self._bootstrap_servers = bootstrap_servers
        self._overrides = overrides
        self._client_id = client_id
        # a producer that needs only failures reported skips a Python callback (and a Message object) per
        # acknowledged record; confluent-kafka still frees each record's callback state in C
        self._extra: dict[str, object] = {"delivery.report.only.error": True} if failed_deliveries_only else {}
        self._producers: dict[ProducerProfile, Producer] = {}
        self._by_topic: dict[str, Producer] = {}

    def _producer_for(self, topic: str) -> Producer:
        producer = self._by_topic.get(topic)
        if producer is None:
            profile = self._overrides.topic_profiles.get(topic) or profile_of(topic)
            producer = self._producers.get(profile)
            if producer is None:
                settings = producer_settings(
                    self._bootstrap_servers, profile, self._overrides,
                    **{"client.id": f"{self._client_id}-{profile.value}", **self._extra},
                )  # fmt: skip
                producer = self._producers[profile] = Producer(settings)
            self._by_topic[topic] = producer
        return producer

    def produce(self, output: Output, on_delivery: DeliveryCallback | None = None) -> None:
        """Hand one output to its producer; waits for queue space rather than dropping."""
        producer = self._producer_for(output.topic)
        while True:
            try:
                if output.partition is None:
                    producer.produce(output.topic, output.value, output.key, headers=output.headers, on_delivery=on_delivery)
                else:
                    producer.produce(
                        output.topic, output.value, output.key, output.partition, headers=output.headers, on_delivery=on_delivery
                    )
                return
            except BufferError:
                producer.poll(0.05)  # local queue full: serve deliveries until there is room

    def partition_count(self, topic: str, timeout_s: float) -> int:
        """How many partitions ``topic`` has, from the broker's metadata (KafkaException if unreachable)."""
        metadata = self._producer_for(topic).list_topics(topic, timeout=timeout_s).topics[topic]
        if metadata.error is not None:
            raise KafkaException(metadata.error)
        return len(metadata.partitions)

    def poll(self) -> None:
        """Serve delivery callbacks without blocking."""
        for producer in self._producers.values():
            producer.poll(0)

    def flush(self, timeout_s: float) -> int:
        """Wait for every queued output; returns how many are still undelivered."""
        return sum(producer.flush(timeout_s) for producer in self._producers.values())

    def queued(self) -> int:
        return sum(len(producer) for producer in self._producers.values())
