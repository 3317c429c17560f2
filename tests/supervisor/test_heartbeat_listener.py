"""The supervisor's heartbeat listener outlives its broker: it waits for one that is not up yet and
reads on after a kill -9 and a restart on the same port (a broker of the test's own)."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path

import pytest
from confluent_kafka import KafkaException, Producer
from confluent_kafka.admin import AdminClient

from platform_streams.embedded.kafka_broker import EmbeddedKafka
from platform_streams.embedded.paths import kafka_libs_dir
from platform_streams.kafka_clients import ProducerProfile, producer_settings
from platform_streams.runtime.output import Output
from platform_streams.schemas import Heartbeat
from platform_streams.supervisor.heartbeats import HeartbeatListener
from platform_streams.topics import HEARTBEAT_TOPIC, ensure_topics
from tests.waiting import wait_until


def answers(bootstrap: str) -> bool:
    try:
        return bool(AdminClient({"bootstrap.servers": bootstrap, "log_level": 0}).list_topics(timeout=2).brokers)
    except KafkaException:
        return False


def beat(ts_ns: int) -> Heartbeat:
    return Heartbeat("d", "d-0", "host", os.getpid(), ts_ns, "running", "", [], 0, 0, 0, -1, 1.0)


@pytest.mark.e2e
def test_the_listener_waits_for_the_broker_and_reads_on_after_its_restart(tmp_path: Path) -> None:
    broker = EmbeddedKafka(tmp_path / "kafka", kafka_libs_dir())
    broker.launch()  # not answering yet when the listener starts
    listener = HeartbeatListener(broker.bootstrap_servers)
    listener.start()
    try:
        wait_until(lambda: answers(broker.bootstrap_servers), 120, "the broker")
        ensure_topics(broker.bootstrap_servers, default_partitions=1)
        producer = Producer(producer_settings(broker.bootstrap_servers, ProducerProfile.LATENCY, **{"log_level": 0}))

        def send(ts_ns: int) -> Callable[[], None]:
            def produce() -> None:  # the listener reads from the end: beats before it is assigned are not seen
                output = Output.event(HEARTBEAT_TOPIC, beat(ts_ns))
                producer.produce(output.topic, output.value, output.key)
                producer.poll(0)

            return produce

        wait_until(lambda: "d-0" in listener.latest, 60, "the first heartbeat", between=send(1))
        os.kill(broker.pid or 0, signal.SIGKILL)
        wait_until(lambda: broker.exit_code() is not None, 30, "the broker to die")
        broker.launch()  # the same port and data, as the supervisor restarts it
        wait_until(lambda: answers(broker.bootstrap_servers), 120, "the broker again")
        wait_until(lambda: listener.latest["d-0"].ts_ns == 2, 60, "a heartbeat after the restart", between=send(2))
        assert producer.flush(30) == 0
    finally:
        listener.stop()
        broker.stop()
