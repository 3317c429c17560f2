"""Shared fixtures: a real Kafka broker and a real PostgreSQL for the whole session.

Both are the embedded ones (started here, on ports chosen at run time, in a
temporary folder) unless ``KAFKA_BOOTSTRAP_SERVERS`` / ``DATABASE_URL`` point the
tests at external servers.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from confluent_kafka.admin import AdminClient, NewTopic

from platform_streams.embedded.kafka_broker import EmbeddedKafka
from platform_streams.embedded.paths import kafka_libs_dir
from platform_streams.embedded.postgres import EmbeddedPostgres
from platform_streams.topics import ensure_topics
from tests import waiting


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        ensure_topics(external, default_partitions=3)
        yield external
        return
    broker = EmbeddedKafka(tmp_path_factory.mktemp("kafka"), kafka_libs_dir())
    broker.start()
    ensure_topics(broker.bootstrap_servers, default_partitions=3)
    try:
        yield broker.bootstrap_servers
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of the server's maintenance database (tests get their own database from it)."""
    external = os.environ.get("DATABASE_URL")
    if external:
        yield external
        return
    server = EmbeddedPostgres(tmp_path_factory.mktemp("pg") / "data")
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture
def database_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database for one test, dropped afterwards."""
    name = f"test_{uuid.uuid4().hex[:12]}"

    async def run(sql: str) -> None:
        connection = await asyncpg.connect(postgres_server)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    yield with_database(postgres_server, name)
    asyncio.run(run(f'DROP DATABASE "{name}" WITH (FORCE)'))


def with_database(url: str, name: str) -> str:
    """The same server URL pointing at database ``name``."""
    head, sep, query = url.partition("?")
    base = head.rsplit("/", 1)[0]
    return f"{base}/{name}{sep}{query}"


@pytest.fixture
def topic_factory(kafka_bootstrap: str):
    """Creates uniquely named topics for one test and deletes them afterwards."""
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    created: list[str] = []

    def create(prefix: str, partitions: int = 3) -> str:
        name = f"test.{prefix}.{uuid.uuid4().hex[:10]}"
        for future in admin.create_topics([NewTopic(name, partitions, replication_factor=-1)]).values():
            future.result(timeout=30)
        created.append(name)
        return name

    yield create
    if created:
        for future in admin.delete_topics(created, operation_timeout=30).values():
            future.result(timeout=30)


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]


@pytest.fixture
def wait_until() -> waiting.WaitUntil:
    """Poll a condition until it holds, failing with what did not happen (see tests/waiting.py)."""
    return waiting.wait_until


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The slow end-to-end tests (marked ``e2e``) run first, those given the longest time-outs first,
    then the rest in collection order: on several workers (``--dist worksteal``) the short tests fill
    the end of the run instead of one long test started last leaving the others idle."""

    default_timeout = float(config.getini("timeout") or 0)  # pytest-timeout's, for a test that sets none

    def rank(item: pytest.Item) -> tuple[int, float]:
        if item.get_closest_marker("e2e") is None:
            return (1, 0.0)
        timeout = item.get_closest_marker("timeout")
        return (0, -(float(timeout.args[0]) if timeout is not None and timeout.args else default_timeout))

    items.sort(key=rank)  # stable: ties keep their collection order
