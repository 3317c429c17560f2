"""The normalisation daemon: the :class:`Normaliser` on ``md.raw`` under the stream runtime.

Instrument metadata is a side input: the runtime reads ``ref.instrument`` whole (to its end
before the first frame, then as it grows) and hands the records over between batches. A frame
whose instrument is not known yet is held, with the rest of its partition, until the runtime has
read ``ref.instrument`` to its end as of that moment (ingestion lists a shard's instruments
before its first frame, so a lagging side input never costs a frame); still unknown then, it is
a dead letter. Bad frames (malformed, unknown channel, unknown instrument) become dead letters
with the exchange and the reason, before they can touch a book; everything else flows.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import msgspec
from confluent_kafka import Message

from platform_streams.exchanges.base import FrameError, UnknownInstrument
from platform_streams.kafka_clients import ConsumerProfile
from platform_streams.normalisation.instrument_catalog import InstrumentCatalog
from platform_streams.normalisation.metrics import NormaliserMetrics
from platform_streams.normalisation.normaliser import Normaliser, NormaliserTopics
from platform_streams.runtime import DaemonSettings, Output, StreamDaemon
from platform_streams.runtime.delivery import TopicPartitionKey
from platform_streams.runtime.side_inputs import SideInput
from platform_streams.schemas import Instrument, TypedDecoder
from platform_streams.schemas.raw_frames import RawFrame, RawFrameError
from platform_streams.topics import INSTRUMENT_TOPIC, RAW_TOPIC


class NormaliserSettings(DaemonSettings, kw_only=True):
    inputs: list[str] = msgspec.field(default_factory=lambda: [RAW_TOPIC])
    topics: NormaliserTopics = msgspec.field(default_factory=NormaliserTopics)
    instrument_topic: str = INSTRUMENT_TOPIC
    resync_retry_s: float = 30.0


class NormaliserDaemon(StreamDaemon):
    """Parses raw frames into canonical events and keeps every instrument's book honest."""

    settings: NormaliserSettings
    consumer_profile = ConsumerProfile.STREAM

    def __init__(self, settings: NormaliserSettings) -> None:
        super().__init__(settings)
        self.normaliser = Normaliser(settings.topics, int(settings.resync_retry_s * 1e9), require_metadata=True)
        self._catalog = InstrumentCatalog()
        self._next_check = 0.0
        self._connections_by_partition: dict[TopicPartitionKey, set[str]] = defaultdict(set)
        self._normaliser_metrics = NormaliserMetrics(settings.name, self.metrics.registry)
        self._batch_receive_ns: list[int] = []

    def side_inputs(self) -> Sequence[SideInput]:
        return [SideInput(self.settings.instrument_topic, TypedDecoder(Instrument).decode)]

    def on_side_input(self, topic: str, records: list[Any]) -> None:
        for exchange in self._catalog.apply(records):
            self.normaliser.set_instruments(exchange, self._catalog.registries[exchange])

    def handle(self, batch: Sequence[Message]) -> Iterable[Output]:
        outputs: list[Output] = []
        normalise, held = self.normaliser.handle, self.held_partitions
        consumed_ns = time.time_ns()
        for message in batch:
            if held and (message.topic(), message.partition()) in held:
                continue  # its partition waits for ref.instrument: it comes back in order
            try:
                frame = RawFrame.from_record(message.value(), message.headers())
                self._connections_by_partition[(message.topic(), message.partition())].add(frame.connection_id)
                outputs.extend(normalise(frame))
                self._batch_receive_ns.append(frame.receive_ts_ns)
            except UnknownInstrument as error:
                letter = self.hold_for_side_inputs(message, error)
                if letter is not None:
                    outputs.append(letter)
            except (FrameError, RawFrameError) as error:
                outputs.append(self.dead_letter(message, error))
        # the canonical hop of the latency trace: consumed with the batch, handed to the producer with
        # it (the runtime produces a batch's outputs once handle returns)
        return self.normaliser.with_canonical_hop(outputs, consumed_ns, time.time_ns())

    def on_partitions_released(self, partitions: list[TopicPartitionKey]) -> None:
        """Another replica reads these partitions now: if they come back, their books are taken over anew."""
        gone = set().union(*(self._connections_by_partition.pop(key, set()) for key in partitions))
        self.normaliser.forget_connections(gone)

    def on_batch_handed(self, messages: int, consumed_ns: int, handed_ns: int) -> None:
        super().on_batch_handed(messages, consumed_ns, handed_ns)
        now_ns = time.time_ns()
        self._normaliser_metrics.receive_to_produce.observe_many(
            [(now_ns - received_ns) / 1e9 for received_ns in self._batch_receive_ns]
        )
        self._batch_receive_ns.clear()

    def periodic(self) -> None:
        now = time.monotonic()
        if now < self._next_check:
            return
        self._next_check = now + 1.0
        for output in self.normaliser.overdue_snapshot_requests(time.time_ns()):
            self.producers.produce(output)
        self._normaliser_metrics.update(self.normaliser)
