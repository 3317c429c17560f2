"""Kafka client profiles: what each role gets, and that configuration overrides win."""

from __future__ import annotations

import msgspec
import pytest

from platform_streams.kafka_clients import (
    ConsumerProfile,
    KafkaOverrides,
    ProducerProfile,
    consumer_settings,
    producer_settings,
)
from platform_streams.normalisation.daemon import NormaliserDaemon
from platform_streams.runtime.daemon import StreamDaemon
from platform_streams.sinks.daemon import PostgresSinkDaemon
from platform_streams.sinks.raw_archive_sink import RawArchiveDaemon
from platform_streams.topics import (
    BBO_TOPIC,
    BOOK_TOPIC,
    DEADLETTER_TOPIC,
    FILL_TOPIC,
    INTENT_TOPIC,
    ORDER_EVENT_TOPIC,
    ORDER_REQUEST_TOPIC,
    RAW_TOPIC,
    RESYNC_TOPIC,
    TOPICS,
    TRADE_TOPIC,
    profile_of,
)


def test_consumer_profiles_trade_fetch_size_for_wait() -> None:
    latency = consumer_settings("b:1", "g")
    stream = consumer_settings("b:1", "g", profile=ConsumerProfile.STREAM)
    batch = consumer_settings("b:1", "g", profile=ConsumerProfile.BATCH)
    assert latency["fetch.min.bytes"] == 1
    assert stream["fetch.wait.max.ms"] < latency["fetch.wait.max.ms"] < batch["fetch.wait.max.ms"]
    assert 1 < stream["fetch.min.bytes"] < batch["fetch.min.bytes"]
    for settings in (latency, stream, batch):  # what every profile shares
        assert settings["enable.auto.commit"] is False
        assert settings["group.id"] == "g"


def test_configured_consumer_properties_override_the_profile() -> None:
    settings = consumer_settings("b:1", "g", {"fetch.wait.max.ms": 42}, ConsumerProfile.BATCH)
    assert settings["fetch.wait.max.ms"] == 42
    assert settings["fetch.min.bytes"] == 1_048_576


def test_producer_overrides_apply_to_their_own_profile_only() -> None:
    overrides = KafkaOverrides(
        latency_producer={"linger.ms": 1}, stream_producer={"linger.ms": 9}, bulk_producer={"linger.ms": 99}
    )
    assert producer_settings("b:1", ProducerProfile.LATENCY, overrides)["linger.ms"] == 1
    assert producer_settings("b:1", ProducerProfile.STREAM, overrides)["linger.ms"] == 9
    assert producer_settings("b:1", ProducerProfile.BULK, overrides)["linger.ms"] == 99
    assert producer_settings("b:1", ProducerProfile.STREAM)["linger.ms"] == 5
    assert producer_settings("b:1", ProducerProfile.LATENCY)["linger.ms"] == 0


def test_market_data_topics_stream_and_the_trading_path_does_not_linger() -> None:
    for topic in (RAW_TOPIC, TRADE_TOPIC, BOOK_TOPIC, BBO_TOPIC):
        assert profile_of(topic) is ProducerProfile.STREAM
    for topic in (INTENT_TOPIC, ORDER_REQUEST_TOPIC, ORDER_EVENT_TOPIC, FILL_TOPIC, RESYNC_TOPIC):
        assert profile_of(topic) is ProducerProfile.LATENCY
    assert profile_of(DEADLETTER_TOPIC) is ProducerProfile.BULK
    assert {spec.profile for spec in TOPICS} == set(ProducerProfile)


def test_daemon_kinds_declare_their_consumer_profile() -> None:
    assert StreamDaemon.consumer_profile is ConsumerProfile.LATENCY
    assert NormaliserDaemon.consumer_profile is ConsumerProfile.STREAM
    assert PostgresSinkDaemon.consumer_profile is ConsumerProfile.BATCH
    assert RawArchiveDaemon.consumer_profile is ConsumerProfile.BATCH


def test_a_topic_can_be_produced_with_another_profile_than_the_registry_s() -> None:
    from platform_streams.runtime.output import Output
    from platform_streams.runtime.producers import OutputProducers

    assert profile_of(BBO_TOPIC) is profile_of(TRADE_TOPIC) is ProducerProfile.STREAM
    overrides = msgspec.convert({"topic_profiles": {BBO_TOPIC: "latency"}}, KafkaOverrides)
    producers = OutputProducers("127.0.0.1:1", overrides, "test")  # nothing is sent: the records stay queued
    producers.produce(Output(BBO_TOPIC, b"top", b"k"))
    assert set(producers._producers) == {ProducerProfile.LATENCY}
    producers.produce(Output(TRADE_TOPIC, b"trade", b"k"))
    assert set(producers._producers) == {ProducerProfile.LATENCY, ProducerProfile.STREAM}
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"topic_profiles": {BBO_TOPIC: "fastest"}}, KafkaOverrides)
