"""Batch writes to PostgreSQL: COPY into a per-connection staging table, then one
``INSERT … SELECT … ON CONFLICT`` into the real table, so replays insert nothing twice
(and change nothing in an upserted table such as ``instruments``).

Staging tables are temporary and ``ON COMMIT DELETE ROWS``: each batch is one
transaction, so they are empty again after it without a TRUNCATE per batch. With a
``CandleRollup``, the statement inserting trades also folds the trades it inserted
into their one-minute candles (``candle_rollup``).

Daily partitions a batch needs are created first. Connection failures and races
(a partition created by another sink at the same moment) are transient: the
caller retries the whole batch.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import asyncpg

from platform_streams.runtime.storage import TransientStoreError
from platform_streams.sinks.candle_rollup import CandleRollup, fold_into_candles
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
    asyncpg.CrashShutdownError,  # another backend crashed: the server restarts every connection
    # the server ended an idle connection (it shut down or crashed) and the client noticed only mid-state
    asyncpg.InternalClientError,
    ConnectionError,
    OSError,
    TimeoutError,
)


class PostgresWriter:
    """Writes rows grouped by table; one connection, reopened after a failure.

    With ``candles``, trades are folded into their one-minute candles as they are inserted.
    """

    def __init__(self, database_url: str, candles: CandleRollup | None = None) -> None:
        self._url = database_url
        self._candles = candles
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

    async def write(self, rows_by_table: Mapping[str, Sequence[tuple[Any, ...]]], now: datetime | None = None) -> dict[str, int]:
        """Insert every row not already present, in one transaction; returns rows inserted per
        table. ``now`` (default: the clock) decides which candles are written already closed."""
        try:
            connection = await self._connect()
            for table, rows in rows_by_table.items():
                await self._prepare(connection, TABLES[table], rows)
            closed_before = None if self._candles is None else self._candles.closed_before(now or datetime.now(UTC))
            inserted: dict[str, int] = {}
            async with connection.transaction():
                for table, rows in rows_by_table.items():
                    inserted[table] = await self._insert(connection, TABLES[table], rows, closed_before)
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

    def _folds_candles(self, spec: TableSpec) -> bool:
        return spec.name == "trades" and self._candles is not None

    async def _prepare(self, connection: asyncpg.Connection, spec: TableSpec, rows: Sequence[tuple[Any, ...]]) -> None:
        """Outside the batch's transaction: the staging table, and the partitions the rows need
        (the candles' too when trades fold into them: a candle's minute is on its trades' day)."""
        if spec.name not in self._staging_ready:
            # only the spec's columns, without the table's constraints: columns the sink leaves to their
            # defaults (a row's updated_at) must not be required in the staging table
            await connection.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS stage_{spec.name} ON COMMIT DELETE ROWS"
                f" AS SELECT {', '.join(spec.columns)} FROM {spec.name} WITH NO DATA"
            )
            self._staging_ready.add(spec.name)
        if spec.partition_column is None or not rows:
            return
        column = spec.columns.index(spec.partition_column)
        days = {row[column].date() for row in rows}
        await self._ensure_days(connection, spec.name, days)
        if self._folds_candles(spec):
            await self._ensure_days(connection, "candles", days)

    async def _ensure_days(self, connection: asyncpg.Connection, table: str, days: set[date]) -> None:
        missing = sorted(day for day in days if (table, day) not in self._partitions_ready)
        if not missing:
            return
        await connection.execute("SELECT ensure_daily_partitions($1::regclass, $2, $3)", table, missing[0], missing[-1])
        self._partitions_ready.update((table, day) for day in missing)

    async def _insert(
        self, connection: asyncpg.Connection, spec: TableSpec, rows: Sequence[tuple[Any, ...]], closed_before: datetime | None
    ) -> int:
        stage = f"stage_{spec.name}"
        await connection.copy_records_to_table(stage, records=rows, columns=spec.columns)
        insert = spec.insert_statement(stage)
        if self._folds_candles(spec):
            return int(await connection.fetchval(fold_into_candles(insert), closed_before))
        status = await connection.execute(insert)
        return int(status.rsplit(" ", 1)[1])
