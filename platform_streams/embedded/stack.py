"""The platform's servers: external ones from the environment, embedded ones otherwise.

``KAFKA_BOOTSTRAP_SERVERS`` set → that Kafka is used and no broker is started;
``DATABASE_URL`` set → that PostgreSQL is used and none is started. Either way the
result is a :class:`Connections` with a bootstrap string and a URL, which is all the
rest of the platform ever sees.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path

import msgspec

from platform_streams.embedded.kafka_broker import EmbeddedKafka
from platform_streams.embedded.paths import kafka_libs_dir
from platform_streams.embedded.postgres import EmbeddedPostgres

log = logging.getLogger(__name__)


class Connections(msgspec.Struct, frozen=True):
    """Where the platform's Kafka and PostgreSQL are."""

    kafka_bootstrap_servers: str
    database_url: str

    def as_env(self) -> dict[str, str]:
        return {"KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap_servers, "DATABASE_URL": self.database_url}


class PlatformStack:
    """Starts what the environment does not provide; stops only what it started."""

    def __init__(self, state_dir: Path, env: Mapping[str, str] | None = None, *, kafka_heap_mb: int | None = None) -> None:
        self.state_dir = Path(state_dir)
        self._env = os.environ if env is None else env
        self.kafka: EmbeddedKafka | None = None
        self.postgres: EmbeddedPostgres | None = None
        self._kafka_heap_mb = kafka_heap_mb

    def start(self) -> Connections:
        bootstrap = self._env.get("KAFKA_BOOTSTRAP_SERVERS", "").strip()
        database_url = self._env.get("DATABASE_URL", "").strip()
        if bootstrap:
            log.info("using external kafka", extra={"bootstrap_servers": bootstrap})
        else:
            self.kafka = EmbeddedKafka(self.state_dir / "kafka", kafka_libs_dir(), heap_mb=self._kafka_heap_mb)
            bootstrap = self.kafka.start()
        if database_url:
            log.info("using external postgres")
        else:
            self.postgres = EmbeddedPostgres(self.state_dir / "postgres")
            try:
                database_url = self.postgres.start()
            except Exception:
                self.stop()
                raise
        return Connections(bootstrap, database_url)

    def stop(self) -> None:
        if self.kafka is not None:
            self.kafka.stop()
            self.kafka = None
        if self.postgres is not None:
            self.postgres.stop()
            self.postgres = None
