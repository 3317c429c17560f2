"""Apply ordered SQL migrations once, each in its own transaction, and record them.

Files are ``NNNN_name.sql`` in ``migrations/``. ``schema_migrations`` records the
version, name and checksum of each applied file; a later edit to an applied file is
refused (write a new migration instead). An advisory lock makes concurrent runners safe.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from pathlib import Path

import asyncpg
import msgspec

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_FILE_NAME = re.compile(r"(\d{4})_([a-z0-9_]+)\.sql")
_LOCK_ID = 0x74726164  # "trad": one advisory lock for every migration runner

_BOOKKEEPING = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer     PRIMARY KEY,
    name       text        NOT NULL,
    checksum   text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


class MigrationError(RuntimeError):
    """Migrations that cannot be applied safely (bad file names, edited history, SQL errors)."""


class Migration(msgspec.Struct, frozen=True):
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover_migrations(folder: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migrations in ``folder`` in version order; rejects misnamed files and duplicate versions."""
    migrations: dict[int, Migration] = {}
    for path in sorted(folder.glob("*.sql")):
        match = _FILE_NAME.fullmatch(path.name)
        if match is None:
            raise MigrationError(f"migration file {path.name} is not named NNNN_name.sql")
        version = int(match.group(1))
        if version in migrations:
            raise MigrationError(f"two migrations have version {version}: {migrations[version].name}, {match.group(2)}")
        migrations[version] = Migration(version, match.group(2), path.read_text())
    return [migrations[v] for v in sorted(migrations)]


async def apply_migrations(database_url: str, migrations: list[Migration] | None = None) -> list[int]:
    """Apply what is not applied yet; returns the versions applied by this call."""
    pending_all = discover_migrations() if migrations is None else migrations
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute("SELECT pg_advisory_lock($1)", _LOCK_ID)
        try:
            await connection.execute(_BOOKKEEPING)
            applied = {
                row["version"]: row for row in await connection.fetch("SELECT version, name, checksum FROM schema_migrations")
            }
            done: list[int] = []
            for migration in pending_all:
                row = applied.get(migration.version)
                if row is not None:
                    if row["checksum"] != migration.checksum:
                        raise MigrationError(
                            f"migration {migration.version} ({migration.name}) was edited after it was applied; "
                            "add a new migration instead"
                        )
                    continue
                async with connection.transaction():
                    try:
                        await connection.execute(migration.sql)
                    except asyncpg.PostgresError as exc:
                        raise MigrationError(f"migration {migration.version} ({migration.name}) failed: {exc}") from exc
                    await connection.execute(
                        "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                        migration.version,
                        migration.name,
                        migration.checksum,
                    )
                log.info("migration applied", extra={"version": migration.version, "migration": migration.name})
                done.append(migration.version)
            return done
        finally:
            await connection.execute("SELECT pg_advisory_unlock($1)", _LOCK_ID)
    finally:
        await connection.close()


def migrate(database_url: str) -> list[int]:
    """Synchronous entry point for the CLI and the stack."""
    return asyncio.run(apply_migrations(database_url))
