"""The processing daemon: the :class:`Processor` on ``md.trade`` (and ``md.bbo`` for top-of-book
indicators) under the stream runtime, publishing ``md.candle`` and ``md.indicator`` keyed by
``exchange:symbol``.

Trades and tops of book are keyed by instrument, so every replica of one consumer group keeps the
candles and indicators of its partitions' instruments. A cross-exchange spread reads two keys,
which may sit in different partitions: a daemon configured with spreads must see every partition of
``md.bbo``, so it runs as a group of one (one replica, or a separate ``processing`` daemon with only
the spreads and ``inputs: [md.bbo]`` beside a scaled-out one). Candles closed by the clock (quiet
instruments) are produced between batches.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Sequence

import msgspec
from confluent_kafka import Message
from prometheus_client import Counter, Gauge

from platform_streams.kafka_clients import ConsumerProfile
from platform_streams.processing.candles import CandleFolder, CandleScaleMismatch
from platform_streams.processing.indicators.base import IndicatorParameterError
from platform_streams.processing.indicators.registry import IndicatorSpec, resolve_all
from platform_streams.processing.processor import Processor
from platform_streams.runtime import DaemonSettings, Output, StreamDaemon
from platform_streams.runtime.delivery import TopicPartitionKey
from platform_streams.schemas import BestBidOffer, Candle, Hop, Trade, TypedDecoder
from platform_streams.schemas.codec import EventDecodeError
from platform_streams.schemas.hop_trace import header_hops, hops_header
from platform_streams.topics import BBO_TOPIC, CANDLE_TOPIC, INDICATOR_TOPIC, TRADE_TOPIC

MS = 1_000_000
INDICATOR_STAGE = "indicator"


class ProcessingSettings(DaemonSettings, kw_only=True):
    inputs: list[str] = msgspec.field(default_factory=lambda: [TRADE_TOPIC])
    trade_topic: str = TRADE_TOPIC
    bbo_topic: str = BBO_TOPIC
    candle_topic: str = CANDLE_TOPIC
    indicator_topic: str = INDICATOR_TOPIC
    candle_intervals_s: list[int] = msgspec.field(default_factory=lambda: [1, 60])
    instruments: list[str] = msgspec.field(default_factory=lambda: ["*"])  # shell patterns on exchange:symbol
    indicators: list[IndicatorSpec] = msgspec.field(default_factory=list)
    lateness_ms: int = 250  # a candle closes once its instrument's trades are this far past its end
    quiet_grace_ms: int = 1_000  # ... or the clock is, plus this, for an instrument with no trades
    clock_interval_ms: int = 200  # how often quiet instruments' candles are checked
    publish_first_candle: bool = False  # True only when the inputs are read from their beginning

    def __post_init__(self) -> None:
        """Check the indicators and intervals when the settings are read (a deployment spec is
        refused at deploy time, not in a crash-looping child)."""
        try:
            resolve_all(self.indicators)
        except IndicatorParameterError as error:
            raise ValueError(str(error)) from None
        if not self.candle_intervals_s or any(interval <= 0 for interval in self.candle_intervals_s):
            raise ValueError(f"candle_intervals_s must be positive whole seconds, got {self.candle_intervals_s}")
        if any(spec.interval_s and spec.interval_s not in self.candle_intervals_s for spec in self.indicators):
            raise ValueError(f"an indicator's interval_s is not one of candle_intervals_s {self.candle_intervals_s}")
        if self.lateness_ms < 0 or self.quiet_grace_ms < 0:
            raise ValueError("lateness_ms and quiet_grace_ms must not be negative")
        if any(spec.interval_s == 0 for spec in self.indicators) and self.bbo_topic not in self.inputs:
            raise ValueError(f"top-of-book indicators need {self.bbo_topic} in inputs")


class ProcessingDaemon(StreamDaemon):
    """Candles and indicators per instrument; see the module docstring for the partitioning rule."""

    settings: ProcessingSettings
    consumer_profile = ConsumerProfile.STREAM

    def __init__(self, settings: ProcessingSettings) -> None:
        super().__init__(settings)
        folder = CandleFolder(
            settings.candle_intervals_s,
            settings.lateness_ms * MS,
            settings.quiet_grace_ms * MS,
            publish_first=settings.publish_first_candle,
        )
        specs = resolve_all(settings.indicators)  # checked when the settings were built
        self.processor = Processor(folder, specs, settings.instruments)
        self._trades = TypedDecoder(Trade)
        self._quotes = TypedDecoder(BestBidOffer)
        # md.trade and md.bbo are keyed alike with equal partition counts: partition n of both holds the same instruments
        self._keys_by_partition: dict[int, set[str]] = defaultdict(set)
        self._next_clock = 0.0
        self._reported = {"late": 0, "duplicate": 0, "first": 0}
        self._metrics(settings.name)

    def _metrics(self, name: str) -> None:
        registry = self.metrics.registry
        self._candles = Counter(
            "platform_processing_candles", "Closed candles published", ("daemon", "interval_s"), registry=registry
        )
        self._values = Counter(
            "platform_processing_indicator_values", "Indicator values published", ("daemon",), registry=registry
        ).labels(name)
        self._dropped = Counter(
            "platform_processing_trades_not_folded",
            "Trades not folded into some candle: late (candle closed), duplicate, in an unpublished first candle",
            ("daemon", "reason"),
            registry=registry,
        )
        self._instruments = Gauge(
            "platform_processing_instruments", "Instruments with candle state", ("daemon",), registry=registry
        ).labels(name)

    def handle(self, batch: Sequence[Message]) -> Iterable[Output]:
        outputs: list[Output] = []
        trade_topic, bbo_topic = self.settings.trade_topic, self.settings.bbo_topic
        wants_quotes = self.processor.engine.wants_quotes
        now_ns = time.time_ns()  # when this batch's trades were folded: the clock's reference (see candles)
        for message in batch:
            topic = message.topic()
            try:
                if topic == trade_topic:
                    trade = self._trades.decode(message.value())
                    self._keys_by_partition[message.partition()].add(trade.key)
                    events = self.processor.on_trade(trade, now_ns)
                elif topic == bbo_topic:
                    key = message.key()
                    if key is not None and not wants_quotes(key.decode(errors="replace")):
                        continue  # no indicator reads this instrument's book: not even decoded
                    events = self.processor.on_bbo(self._quotes.decode(message.value()))
                else:
                    raise EventDecodeError(message.value() or b"", f"processing does not read topic {topic!r}")
            except (EventDecodeError, CandleScaleMismatch) as error:
                outputs.append(self.dead_letter(message, error))
                continue
            produced = self._outputs(events)
            if produced:  # the indicator hop of the latency trace, after the hops its cause carried
                upstream = header_hops(message.headers())
                header = hops_header([*upstream, Hop(INDICATOR_STAGE, now_ns, time.time_ns())])
                outputs.extend(Output(o.topic, o.value, o.key, header) for o in produced)
        return outputs

    def _outputs(self, events: Iterable[Candle | object]) -> list[Output]:
        candle_topic, indicator_topic = self.settings.candle_topic, self.settings.indicator_topic
        outputs = []
        for event in events:
            if isinstance(event, Candle):
                self._candles.labels(self.settings.name, str(event.interval_s)).inc()
                outputs.append(Output.event(candle_topic, event))
            else:
                self._values.inc()
                outputs.append(Output.event(indicator_topic, event))
        return outputs

    def periodic(self) -> None:
        now = time.monotonic()
        if now < self._next_clock:
            return
        self._next_clock = now + self.settings.clock_interval_ms / 1000
        for output in self._outputs(self.processor.on_clock(time.time_ns())):
            self.producers.produce(output)
        self._report_counts()

    def _report_counts(self) -> None:
        folder = self.processor.folder
        for reason, total in (
            ("late", folder.late_trades),
            ("duplicate", folder.duplicate_trades),
            ("first", folder.unpublished_first_candles),
        ):
            if total > self._reported[reason]:
                self._dropped.labels(self.settings.name, reason).inc(total - self._reported[reason])
                self._reported[reason] = total
        self._instruments.set(len(folder.instruments))

    def on_partitions_released(self, partitions: list[TopicPartitionKey]) -> None:
        """Another replica folds these instruments now: if they come back, their state starts anew."""
        keys: set[str] = set()
        for _topic, partition in partitions:
            keys |= self._keys_by_partition.pop(partition, set())
        self.processor.forget(keys)
