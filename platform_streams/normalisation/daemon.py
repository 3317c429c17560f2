"""The normalisation daemon: the :class:`Normaliser` on ``md.raw`` under the stream runtime.

Bad frames (malformed, unknown channel, unknown instrument) become dead letters with
the exchange and the reason, before they can touch a book; everything else flows.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Sequence

import msgspec
from confluent_kafka import Message
from prometheus_client import Gauge, Histogram

from platform_streams.exchanges.base import FrameError, UnknownInstrument
from platform_streams.ingestion.raw_frames import RAW_TOPIC, RawFrame, RawFrameError
from platform_streams.kafka_clients import ConsumerProfile
from platform_streams.normalisation.instrument_catalog import InstrumentCatalog
from platform_streams.normalisation.normaliser import Normaliser, NormaliserTopics
from platform_streams.runtime import DaemonSettings, Output, StreamDaemon
from platform_streams.runtime.delivery import TopicPartitionKey

_LATENCY_BUCKETS = tuple(
    b / 1000 for b in (0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4, 5, 7.5, 10, 15, 20, 30, 50, 75, 100, 250, 500, 1000, 5000)
)


class NormaliserSettings(DaemonSettings, kw_only=True):
    inputs: list[str] = msgspec.field(default_factory=lambda: [RAW_TOPIC])
    topics: NormaliserTopics = msgspec.field(default_factory=NormaliserTopics)
    instrument_topic: str = "ref.instrument"
    resync_retry_s: float = 30.0
    book_depths: dict[str, int] = {}  # subscribed depths where a book rule needs them (default: ingestion's defaults)


class NormaliserDaemon(StreamDaemon):
    """Parses raw frames into canonical events and keeps every instrument's book honest."""

    settings: NormaliserSettings
    consumer_profile = ConsumerProfile.STREAM

    def __init__(self, settings: NormaliserSettings) -> None:
        super().__init__(settings)
        self.normaliser = Normaliser(
            settings.topics, int(settings.resync_retry_s * 1e9), settings.book_depths, require_metadata=True
        )
        self._catalog = InstrumentCatalog(self.bootstrap_servers, settings.instrument_topic)
        self._use_instruments(self._catalog.load_all())
        self._next_check = 0.0
        self._last_catch_up = 0.0
        registry = self.metrics.registry
        self._books = Gauge("platform_normalisation_books", "Books kept", ("daemon",), registry=registry).labels(settings.name)
        self._resyncs = Gauge("platform_normalisation_resyncs", "Book resyncs", ("daemon",), registry=registry).labels(
            settings.name
        )
        self._receive_to_produce = Histogram(
            "platform_normalisation_receive_to_produce_seconds",
            "From a frame's receipt by ingestion to its canonical events being handed to the producer",
            ("daemon",),
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        ).labels(settings.name)
        self._batch_receive_ns: list[int] = []
        self._connections_by_partition: dict[TopicPartitionKey, set[str]] = defaultdict(set)

    def _use_instruments(self, exchanges: set[str]) -> None:
        for exchange in exchanges:
            self.normaliser.set_instruments(exchange, self._catalog.registries[exchange])

    def handle(self, batch: Sequence[Message]) -> Iterable[Output]:
        outputs: list[Output] = []
        for message in batch:
            try:
                frame = RawFrame.from_record(message.value(), message.headers())
                self._batch_receive_ns.append(frame.receive_ts_ns)
                self._connections_by_partition[(message.topic(), message.partition())].add(frame.connection_id)
                try:
                    outputs.extend(self.normaliser.handle(frame))
                except UnknownInstrument:
                    self._catch_up_instruments()  # it may have been listed just now
                    outputs.extend(self.normaliser.handle(frame))
            except (FrameError, RawFrameError) as error:
                outputs.append(self.dead_letter(message, error))
        return outputs

    def on_partitions_released(self, partitions: list[TopicPartitionKey]) -> None:
        """Another replica reads these partitions now: if they come back, their books are taken over anew."""
        gone = set().union(*(self._connections_by_partition.pop(key, set()) for key in partitions))
        self.normaliser.forget_connections(gone)

    def _catch_up_instruments(self) -> None:
        """Read ``ref.instrument`` to its end (ingestion lists a shard's instruments before its first
        frame), at most once a second: an instrument still unknown after that is a dead letter."""
        now = time.monotonic()
        if now - self._last_catch_up < 1.0:
            self._use_instruments(self._catalog.poll_updates())
            return
        self._last_catch_up = now
        self._use_instruments(self._catalog.load_all(timeout_s=10.0))

    def on_batch_handed(self, messages: int, consumed_ns: int, handed_ns: int) -> None:
        super().on_batch_handed(messages, consumed_ns, handed_ns)
        now_ns = time.time_ns()
        observe = self._receive_to_produce.observe
        for received_ns in self._batch_receive_ns:
            observe((now_ns - received_ns) / 1e9)
        self._batch_receive_ns.clear()

    def periodic(self) -> None:
        now = time.monotonic()
        if now < self._next_check:
            return
        self._next_check = now + 1.0
        self._use_instruments(self._catalog.poll_updates())
        for output in self.normaliser.overdue_snapshot_requests(time.time_ns()):
            self.producers.produce(output)
        self._books.set(len(self.normaliser.books()))
        self._resyncs.set(self.normaliser.resyncs)

    def run(self) -> None:
        try:
            super().run()
        finally:
            self._catalog.close()
