"""The Dagster definitions load, and the setup job works against the real servers."""

from __future__ import annotations

import asyncio

import asyncpg
import dagster as dg
from confluent_kafka.admin import AdminClient

from platform_assets.definitions import defs
from platform_assets.jobs.platform_setup import TopicSetupConfig
from platform_assets.resources.platform_servers import KafkaResource, PostgresResource
from platform_streams.database.migrate import discover_migrations
from platform_streams.topics import TOPICS


def test_definitions_load() -> None:
    repository = defs.get_repository_def()
    assert "platform_setup" in {job.name for job in repository.get_all_jobs()}


def test_platform_setup_job_creates_topics_and_schema(kafka_bootstrap: str, database_url: str) -> None:
    job = defs.get_job_def("platform_setup")
    result = job.execute_in_process(
        run_config=dg.RunConfig(ops={"create_topics": TopicSetupConfig(partitions=2)}),
        resources={"kafka": KafkaResource(bootstrap_servers=kafka_bootstrap), "postgres": PostgresResource(url=database_url)},
    )
    assert result.success
    assert result.output_for_node("apply_database_migrations") == [m.version for m in discover_migrations()]
    topics = AdminClient({"bootstrap.servers": kafka_bootstrap}).list_topics(timeout=10).topics
    assert {spec.name for spec in TOPICS} <= set(topics)

    async def tables() -> set[str]:
        connection = await asyncpg.connect(database_url)
        try:
            rows = await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        finally:
            await connection.close()
        return {row["tablename"] for row in rows}

    assert {"trades", "orders", "schema_migrations"} <= asyncio.run(tables())
