"""The embedded stack and its external switch: KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL win."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest
from confluent_kafka.admin import AdminClient

from platform_streams.embedded.kafka_broker import BrokerError, EmbeddedKafka
from platform_streams.embedded.paths import kafka_libs_dir
from platform_streams.embedded.stack import PlatformStack
from platform_streams.topics import TOPICS, ensure_topics


def test_external_servers_are_used_and_nothing_is_started(kafka_bootstrap, database_url, tmp_path: Path) -> None:
    stack = PlatformStack(tmp_path, env={"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "DATABASE_URL": database_url})
    connections = stack.start()
    try:
        assert connections.kafka_bootstrap_servers == kafka_bootstrap
        assert connections.database_url == database_url
        assert stack.kafka is None and stack.postgres is None
        assert list(tmp_path.iterdir()) == []  # no broker or database files were created
    finally:
        stack.stop()


def test_cli_topics_and_migrate_go_to_the_servers_in_the_environment(kafka_bootstrap, database_url, tmp_path) -> None:
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "DATABASE_URL": database_url,
        "TRADEPLAT_STATE_DIR": str(tmp_path),
    }
    for command in (["topics", "--partitions", "3"], ["migrate"]):
        result = subprocess.run(
            [sys.executable, "-m", "platform_streams.cli.main", *command], env=env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stderr
    topics = AdminClient({"bootstrap.servers": kafka_bootstrap}).list_topics(timeout=10).topics
    assert {spec.name for spec in TOPICS} <= set(topics)

    async def count_migrations() -> int:
        connection = await asyncpg.connect(database_url)
        try:
            return await connection.fetchval("SELECT count(*) FROM schema_migrations")
        finally:
            await connection.close()

    assert asyncio.run(count_migrations()) >= 2
    assert list(tmp_path.iterdir()) == []


def test_only_the_missing_server_is_embedded(database_url, tmp_path: Path) -> None:
    stack = PlatformStack(tmp_path, env={"DATABASE_URL": database_url})
    connections = stack.start()
    try:
        assert stack.postgres is None and stack.kafka is not None
        assert connections.database_url == database_url
        metadata = AdminClient({"bootstrap.servers": connections.kafka_bootstrap_servers}).list_topics(timeout=10)
        assert metadata.brokers
    finally:
        stack.stop()
    assert stack.kafka is None


def test_embedded_broker_keeps_topics_and_ports_across_restarts(tmp_path: Path) -> None:
    broker = EmbeddedKafka(tmp_path / "kafka", kafka_libs_dir())
    first = broker.start()
    try:
        ensure_topics(first, default_partitions=2)
        pid = broker.pid
        assert pid and broker.rss_bytes() > 0
        broker.stop()
        assert broker.pid is None
        assert broker.start() == first
        topics = AdminClient({"bootstrap.servers": first}).list_topics(timeout=10).topics
        assert {spec.name for spec in TOPICS} <= set(topics)
    finally:
        broker.stop()


def test_missing_jars_say_how_to_get_them(tmp_path: Path) -> None:
    with pytest.raises(BrokerError, match="make setup"):
        EmbeddedKafka(tmp_path / "kafka", tmp_path / "no-jars").start()


def test_a_taken_port_is_a_clear_start_up_error(tmp_path: Path) -> None:
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    try:
        broker = EmbeddedKafka(tmp_path / "kafka", kafka_libs_dir(), port=blocker.getsockname()[1])
        with pytest.raises(BrokerError, match="Kafka exited|did not answer"):
            broker.start(timeout_s=60)
        assert broker.pid is None
    finally:
        blocker.close()
