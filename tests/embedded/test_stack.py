"""The embedded stack and its external switch (KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL win), and the
embedded servers coming back after a kill -9 on the same address with the same data."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from platform_streams.embedded.kafka_broker import BrokerError, EmbeddedKafka
from platform_streams.embedded.paths import kafka_libs_dir
from platform_streams.embedded.postgres import SYSTEM_USER_WHEN_ROOT, EmbeddedPostgres
from platform_streams.embedded.stack import PlatformStack
from platform_streams.topics import TOPICS, ensure_topics
from tests.waiting import wait_until


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


@pytest.mark.e2e
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


@pytest.mark.e2e
def test_embedded_broker_killed_with_sigkill_comes_back_on_its_port_with_its_topics(tmp_path: Path) -> None:
    broker = EmbeddedKafka(tmp_path / "kafka", kafka_libs_dir())
    bootstrap = broker.start()
    try:
        ensure_topics(bootstrap, default_partitions=2)
        pid = broker.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: broker.exit_code() is not None, 30, "the broker to die")
        assert broker.exit_code() == -signal.SIGKILL and broker.pid is None
        broker.launch()  # what the supervisor does: same ports, same data, no waiting
        assert broker.bootstrap_servers == bootstrap and broker.pid not in (None, pid)
        admin = AdminClient({"bootstrap.servers": bootstrap})
        wait_until(lambda: answers(admin), 120, "the broker to answer again")
        assert {spec.name for spec in TOPICS} <= set(admin.list_topics(timeout=10).topics)
    finally:
        broker.stop()


def test_embedded_postgres_killed_with_sigkill_restarts_with_its_data_despite_stale_locks(tmp_path: Path) -> None:
    """After a kill -9 the lock files name a dead postmaster, whose pid a busy machine soon gives to some
    other process: PostgreSQL would take that for a running server and refuse to start."""
    server = EmbeddedPostgres(tmp_path / "pg")
    url = server.start()
    # an unrelated live process of the server's user (which PostgreSQL can signal), as a reused pid may be
    squatter = subprocess.Popen(["sleep", "120"], user=SYSTEM_USER_WHEN_ROOT if os.geteuid() == 0 else None)
    try:
        asyncio.run(execute(url, "CREATE TABLE kept (x int); INSERT INTO kept VALUES (1), (2)"))
        pid = server.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: server.exit_code() is not None, 30, "the postmaster to die")
        lock = tmp_path / "pg" / "postmaster.pid"
        lines = lock.read_text().splitlines()
        lock.write_text("\n".join([str(squatter.pid), *lines[1:]]) + "\n")
        socket_dir = Path(url.split("host=", 1)[1])
        for socket_lock in socket_dir.glob(".s.PGSQL.*.lock"):
            socket_lock.write_text("\n".join([str(squatter.pid), *socket_lock.read_text().splitlines()[1:]]) + "\n")
        assert server.start() == url
        assert server.pid not in (None, pid)
        assert asyncio.run(fetch_one(url, "SELECT count(*) FROM kept")) == 2
        assert squatter.poll() is None  # only what was ours was touched
    finally:
        squatter.kill()
        squatter.wait()
        server.stop()
    assert server.pid is None


def answers(admin: AdminClient) -> bool:
    try:
        return bool(admin.list_topics(timeout=2).brokers)
    except KafkaException:
        return False


async def execute(url: str, sql: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def fetch_one(url: str, sql: str) -> int:
    connection = await asyncpg.connect(url)
    try:
        return await connection.fetchval(sql)
    finally:
        await connection.close()
