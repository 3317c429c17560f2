"""``platform_setup``: create the registry's topics and apply database migrations.

The same functions ``tradeplat up`` calls, so a deployment against external
servers can be prepared from the Dagster UI.
"""

# No `from __future__ import annotations` here: Dagster resolves config and resource
# annotations of ops when they are defined.
import dagster as dg

from platform_assets.resources.platform_servers import KafkaResource, PostgresResource
from platform_streams.database.migrate import apply_migrations
from platform_streams.topics import DEFAULT_PARTITIONS, ensure_topics


class TopicSetupConfig(dg.Config):
    partitions: int = DEFAULT_PARTITIONS


@dg.op
def create_topics(context: dg.OpExecutionContext, config: TopicSetupConfig, kafka: KafkaResource) -> list[str]:
    """Create every registry topic that does not exist yet."""
    created = ensure_topics(kafka.bootstrap_servers, default_partitions=config.partitions)
    context.log.info(f"created {len(created)} topics: {', '.join(created) or '-'}")
    return created


@dg.op
async def apply_database_migrations(context: dg.OpExecutionContext, postgres: PostgresResource) -> list[int]:
    """Apply the SQL migrations not applied yet."""
    applied = await apply_migrations(postgres.url)
    context.log.info(f"applied migrations: {applied or 'none (up to date)'}")
    return applied


@dg.job(description="Create the platform's Kafka topics and apply its database migrations.")
def platform_setup() -> None:
    create_topics()
    apply_database_migrations()
