"""The platform's Kafka and PostgreSQL as Dagster resources, read from the same
``KAFKA_BOOTSTRAP_SERVERS`` / ``DATABASE_URL`` the daemons use."""

from __future__ import annotations

import dagster as dg

from platform_assets.resources.exchanges import ExchangesResource
from platform_assets.resources.stream_control import DeploymentLauncherResource, PlatformStatusResource


class KafkaResource(dg.ConfigurableResource):
    """The Kafka cluster the stream daemons run on."""

    bootstrap_servers: str


class PostgresResource(dg.ConfigurableResource):
    """The PostgreSQL database the persistence sinks write to."""

    url: str


def platform_resources() -> dict[str, dg.ConfigurableResource]:
    """Resources bound to the environment, resolved when a run starts (not at import)."""
    return {
        "kafka": KafkaResource(bootstrap_servers=dg.EnvVar("KAFKA_BOOTSTRAP_SERVERS")),
        "postgres": PostgresResource(url=dg.EnvVar("DATABASE_URL")),
        "launcher": DeploymentLauncherResource(kafka_bootstrap_servers=dg.EnvVar("KAFKA_BOOTSTRAP_SERVERS")),
        "status": PlatformStatusResource(),
        "exchanges": ExchangesResource(),
    }
