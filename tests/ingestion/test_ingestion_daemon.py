"""The ingestion daemon on the runtime's lifecycle, against the simulated Kraken and the real broker:
metadata before frames, and a frame the broker refuses stops the daemon instead of going unnoticed."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from platform_streams.ingestion.daemon import IngestionDaemon, IngestionSettings
from platform_streams.kafka_clients import KafkaOverrides
from platform_streams.runtime.delivery import DeliveryFailed
from platform_streams.schemas import Instrument, TypedDecoder
from platform_streams.settings import ConfigError
from platform_streams.simulator import SimulatorThread
from platform_streams.simulator.config import load_simulator_config
from tests.kafka_helpers import read_until


def run_in_thread(daemon: IngestionDaemon) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            daemon.run()
        except BaseException as exc:  # what ended the daemon, for the test to inspect
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, errors


@pytest.mark.e2e
def test_a_raw_frame_the_broker_refuses_stops_ingestion(kafka_bootstrap, topic_factory) -> None:
    instruments, resync = topic_factory("instr"), topic_factory("resync")
    config = load_simulator_config({"exchanges": ["kraken"], "instruments": 5, "rate": 100, "seed": 3})
    with SimulatorThread(config) as sim:
        settings = IngestionSettings(
            name="ingest-refused", bootstrap_servers=kafka_bootstrap, metrics_port=-1, exchange="kraken",
            rest_url=sim.urls["kraken"].rest, ws_url=sim.urls["kraken"].websocket,
            raw_topic=f"test.missing.{uuid.uuid4().hex[:10]}",  # never created, and the broker creates none
            instrument_topic=instruments, resync_topic=resync, heartbeat_interval_s=0.5,
            kafka=KafkaOverrides(latency_producer={"message.timeout.ms": 2_000}), shutdown_timeout_s=2,
        )  # fmt: skip
        daemon = IngestionDaemon(settings)
        thread, errors = run_in_thread(daemon)
        deadline = time.monotonic() + 90
        while thread.is_alive():
            assert time.monotonic() < deadline, "ingestion kept running although its frames were refused"
            time.sleep(0.1)
        (error,) = errors
        assert isinstance(error, DeliveryFailed) and "output delivery failed" in str(error)
        # the shard's instruments went first, and were acknowledged
        listed = read_until(kafka_bootstrap, instruments, lambda got: len(got) >= 5)
        assert {TypedDecoder(Instrument).decode(m.value()).exchange for m in listed} == {"kraken"}


def test_settings_name_the_venue_and_depth_they_cannot_use() -> None:
    with pytest.raises(ConfigError, match="exchange: no venue adapter 'krakken'"):
        IngestionSettings(name="x", exchange="krakken")
    with pytest.raises(ConfigError, match="book_depth: kraken book depth must be one of"):
        IngestionSettings(name="x", exchange="kraken", book_depth=20)
    with pytest.raises(ConfigError, match="book_depth: okx books are as deep as their channel"):
        IngestionSettings(name="x", exchange="okx", book_depth=25)
    assert IngestionSettings(name="x", exchange="kraken", book_depth=1000).feed().book_depth == 1000  # type: ignore[attr-defined]


@pytest.mark.e2e
def test_each_connection_s_frames_go_to_its_own_partition_of_md_raw(kafka_bootstrap, topic_factory) -> None:
    from platform_streams.ingestion.raw_partitions import raw_partition

    raw, instruments, resync = topic_factory("raw", partitions=6), topic_factory("instr"), topic_factory("resync")
    config = load_simulator_config({"exchanges": ["kraken"], "instruments": 6, "rate": 300, "seed": 3})
    with SimulatorThread(config) as sim:
        settings = IngestionSettings(
            name="ingest-partitions", bootstrap_servers=kafka_bootstrap, metrics_port=-1, exchange="kraken",
            rest_url=sim.urls["kraken"].rest, ws_url=sim.urls["kraken"].websocket, raw_topic=raw,
            instrument_topic=instruments, resync_topic=resync, heartbeat_interval_s=0.5, shutdown_timeout_s=5,
            streams_per_connection=6,  # two instruments of three channels a connection: three connections
        )  # fmt: skip
        daemon = IngestionDaemon(settings)
        thread, errors = run_in_thread(daemon)
        try:
            frames = read_until(kafka_bootstrap, raw, lambda got: len({m.key() for m in got}) >= 3 and len(got) >= 60)
        finally:
            daemon.stop()
            thread.join(30)
        assert not errors
        placed = {(m.key().decode(), m.partition()) for m in frames}
        assert placed == {(f"kraken-{i:03d}", raw_partition("kraken", i, 6)) for i in range(3)}
        assert {partition % 2 for _, partition in placed} == {0, 1}  # both members of a group of two get frames


@pytest.mark.e2e
def test_with_the_normaliser_chained_it_publishes_canonical_events_and_dead_letters_name_the_raw_record(
    kafka_bootstrap, topic_factory
) -> None:
    from confluent_kafka import Consumer, TopicPartition

    from platform_streams.kafka_clients import ProducerProfile, consumer_settings
    from platform_streams.normalisation.normaliser import NormaliserTopics
    from platform_streams.schemas import BookDelta, BookResync, BookSnapshot, DeadLetter, Trade
    from platform_streams.schemas.hop_trace import header_hops

    raw, trades, book, bbo, candle, resync, instruments, dead = (
        topic_factory(n) for n in ("raw", "trade", "book", "bbo", "candle", "resync", "instr", "dead")
    )
    config = load_simulator_config({"exchanges": ["kraken"], "instruments": 5, "rate": 400, "seed": 3})
    with SimulatorThread(config) as sim:
        settings = IngestionSettings(
            name="ingest-chained", bootstrap_servers=kafka_bootstrap, metrics_port=-1, exchange="kraken",
            rest_url=sim.urls["kraken"].rest, ws_url=sim.urls["kraken"].websocket, raw_topic=raw,
            instrument_topic=instruments, resync_topic=resync, deadletter_topic=dead, heartbeat_interval_s=0.5,
            shutdown_timeout_s=5, normalise=True,
            normaliser_topics=NormaliserTopics(trade=trades, book=book, bbo=bbo, candle=candle, resync=resync),
            kafka=KafkaOverrides(topic_profiles={bbo: ProducerProfile.LATENCY}),
        )  # fmt: skip
        daemon = IngestionDaemon(settings)
        thread, errors = run_in_thread(daemon)
        try:
            books = TypedDecoder(BookSnapshot, BookDelta, BookResync)

            def snapshotted(got: list) -> set[str]:
                return {e.symbol for e in (books.decode(m.value()) for m in got) if isinstance(e, BookSnapshot)}

            snapshots = read_until(kafka_bootstrap, book, lambda got: len(snapshotted(got)) >= 5)
            sim.inject_fault(kind="malformed", exchange="kraken", channel="trade", count=2)
            letters = read_until(kafka_bootstrap, dead, lambda got: len(got) >= 2)
            traded = read_until(kafka_bootstrap, trades, lambda got: len(got) >= 20)
            tops = read_until(kafka_bootstrap, bbo, lambda got: len(got) >= 20)
        finally:
            daemon.stop()
            thread.join(30)
        assert not errors
    assert len(snapshotted(snapshots)) == 5  # every book live from the chained normaliser
    for message in traded + tops:  # the canonical hop runs from the frame's receipt: no broker wait before it
        (hop,) = header_hops(message.headers())
        assert hop.stage == "canonical" and hop.in_ts_ns <= hop.out_ts_ns
    for message in traded:
        trade = TypedDecoder(Trade).decode(message.value())
        assert header_hops(message.headers())[0].in_ts_ns == trade.receive_ts_ns
    assert len(letters) == 2
    reader = Consumer(consumer_settings(kafka_bootstrap, f"raw-reader-{time.time_ns()}"))
    try:
        for message in letters:
            letter = TypedDecoder(DeadLetter).decode(message.value())
            assert letter.source_topic == raw and letter.exchange == "kraken" and letter.daemon == "ingest-chained"
            reader.assign([TopicPartition(raw, letter.source_partition, letter.source_offset)])
            record = reader.consume(1, 10)[0]  # the md.raw record the letter names is the refused frame
            assert record.value() == letter.payload and record.key() == letter.key
    finally:
        reader.close()
    assert daemon.normaliser is not None and daemon.normaliser.refused == 2
    sample = daemon.metrics.registry.get_sample_value
    observed = sample("platform_normalisation_receive_to_produce_seconds_count", {"daemon": "ingest-chained"})
    assert observed is not None and observed >= 40  # at least the frames of the trades and tops read back
    assert 0 < (sample("platform_runtime_messages_in_total", {"daemon": "ingest-chained"}) or 0) <= daemon.normaliser.frames
    assert sample("platform_normalisation_books", {"daemon": "ingest-chained"}) == 5
