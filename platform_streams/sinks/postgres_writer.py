"""Batch writes to PostgreSQL: COPY into a per-connection staging table, then one
``INSERT … SELECT … ON CONFLICT`` into the real table, so replays insert nothing twice.

Daily partitions a batch needs are created first. Connection failures and races
(a partition created by another sink at the same moment) are transient: the
caller retries the whole batch.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import asyncpg

from platform_streams.runtime.storage import TransientStoreError
from platform_streams.sinks.tables import TABLES, TableSpec

log = logging.getLogger(__name__)

_TRANSIENT = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.DeadlockDetectedError,
    asyncpg.SerializationError,
    asyncpg.DuplicateTableError,
    asyncpg.AdminShutdownError,
    ConnectionError,
    OSError,
    TimeoutError,
)


class PostgresWriter:
    """Writes rows grouped by table; one connection, reopened after a failure."""

    def __init__(self, database_url: str) -> None:
        self._url = database_url
        self._connection: asyncpg.Connection | None = None
        self._staging_ready: set[str] = set()
        self._partitions_ready: set[tuple[str, date]] = set()

    async def _connect(self) -> asyncpg.Connection:
        if self._connection is None or self._connection.is_closed():
            self._connection = await asyncpg.connect(self._url, timeout=10)
            self._staging_ready.clear()
        return self._connection

    async def close(self) -> None:
        if self._connection is not None and not self._connection.is_closed():
            await self._connection.close()
        self._connection = None

    async def write(self, rows_by_table: Mapping[str, Sequence[tuple[Any, ...]]]) -> dict[str, int]:
        """Insert every row not already present; returns rows inserted per table."""
        try:
            connection = await self._connect()
            for table, rows in rows_by_table.items():
                await self._ensure_partitions(connection, TABLES[table], rows)
            inserted: dict[str, int] = {}
            async with connection.transaction():
                for table, rows in rows_by_table.items():
                    inserted[table] = await self._insert(connection, TABLES[table], rows)
            return inserted
        except _TRANSIENT as exc:
            await self._drop_connection()
            raise TransientStoreError(f"{type(exc).__name__}: {exc}") from exc

    async def execute(self, sql: str, *args: Any) -> str:
        """Run one statement on the writer's connection (transient failures classified)."""
        try:
            connection = await self._connect()
            return await connection.execute(sql, *args)
        except _TRANSIENT as exc:
            await self._drop_connection()
            raise TransientStoreError(f"{type(exc).__name__}: {exc}") from exc

    async def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            connection.terminate()

    async def _ensure_partitions(self, connection: asyncpg.Connection, spec: TableSpec, rows: Sequence[tuple[Any, ...]]) -> None:
        if spec.partition_column is None or not rows:
            return
        column = spec.columns.index(spec.partition_column)
        await self._ensure_days(connection, spec.name, {row[column].date() for row in rows})

    async def ensure_partitions(self, table: str, days: set[date]) -> None:
        """Create the daily partitions of ``table`` for ``days`` (transient failures classified)."""
        try:
            await self._ensure_days(await self._connect(), table, days)
        except _TRANSIENT as exc:
            await self._drop_connection()
            raise TransientStoreError(f"{type(exc).__name__}: {exc}") from exc

    async def _ensure_days(self, connection: asyncpg.Connection, table: str, days: set[date]) -> None:
        missing = sorted(day for day in days if (table, day) not in self._partitions_ready)
        if not missing:
            return
        await connection.execute("SELECT ensure_daily_partitions($1::regclass, $2, $3)", table, missing[0], missing[-1])
        self._partitions_ready.update((table, day) for day in missing)

    async def _insert(self, connection: asyncpg.Connection, spec: TableSpec, rows: Sequence[tuple[Any, ...]]) -> int:
        stage = f"stage_{spec.name}"
        if spec.name not in self._staging_ready:
            await connection.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {spec.name})")
            self._staging_ready.add(spec.name)
        await connection.execute(f"TRUNCATE {stage}")
        await connection.copy_records_to_table(stage, records=rows, columns=spec.columns)
        columns = ", ".join(spec.columns)
        status = await connection.execute(f"INSERT INTO {spec.name} ({columns}) SELECT {columns} FROM {stage} {spec.on_conflict}")
        return int(status.rsplit(" ", 1)[1])
