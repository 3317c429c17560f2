"""The services ``tradeplat up`` supervises next to its deployment: the broker and the database
(embedded ones restarted, external ones probed) and the Dagster UI and daemon."""

from __future__ import annotations

import urllib.parse

from platform_streams.embedded.dagster_ui import DagsterUI
from platform_streams.embedded.kafka_broker import EmbeddedKafka
from platform_streams.embedded.postgres import EmbeddedPostgres
from platform_streams.embedded.stack import Connections, PlatformStack
from platform_streams.supervisor.backoff import RestartBudget
from platform_streams.supervisor.probes import HttpProbe, KafkaProbe, PostgresProbe, ProbeLoop
from platform_streams.supervisor.services import DEFAULT_SERVER_RESTARTS, SERVER_RESTART_WINDOW_S, Service


def server_services(stack: PlatformStack, connections: Connections, max_restarts: int = DEFAULT_SERVER_RESTARTS) -> list[Service]:
    """Kafka and PostgreSQL: supervised processes if embedded, probed either way (both critical),
    each restarted at most ``max_restarts`` times within ten minutes."""
    return [
        kafka_service(connections.kafka_bootstrap_servers, stack.kafka, RestartBudget(max_restarts, SERVER_RESTART_WINDOW_S)),
        postgres_service(connections.database_url, stack.postgres, RestartBudget(max_restarts, SERVER_RESTART_WINDOW_S)),
    ]


def kafka_service(bootstrap_servers: str, embedded: EmbeddedKafka | None = None, budget: RestartBudget | None = None) -> Service:
    description = embedded.description if embedded is not None else "external Kafka"
    probe = ProbeLoop("kafka", KafkaProbe(bootstrap_servers))
    return Service("kafka", description, bootstrap_servers, probe, embedded, budget=budget)


def postgres_service(database_url: str, embedded: EmbeddedPostgres | None = None, budget: RestartBudget | None = None) -> Service:
    description = embedded.description if embedded is not None else "external PostgreSQL"
    probe = ProbeLoop("postgres", PostgresProbe(database_url))
    return Service("postgres", description, without_password(database_url), probe, embedded, budget=budget)


def dagster_services(ui: DagsterUI) -> list[Service]:
    """The Dagster UI and daemon: restarted if they exit, but the platform runs on without them."""
    return [
        Service(
            "dagster-webserver",
            "Dagster UI",
            ui.url,
            ProbeLoop("dagster-webserver", HttpProbe(f"{ui.url}/server_info"), interval_s=2.0, timeout_s=5.0),
            ui.webserver,
            critical=False,
        ),
        Service("dagster-daemon", "Dagster daemon", "", None, ui.daemon, critical=False),
    ]


def without_password(url: str) -> str:
    """``url`` fit for a status file: a password in it replaced by ``***``."""
    parts = urllib.parse.urlsplit(url)
    if not parts.password:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    netloc = f"{user}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))
