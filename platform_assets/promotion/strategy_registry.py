"""The strategy registry in PostgreSQL (``strategy_registry``, ``strategy_registry_steps``): each
strategy version the promotion pipeline took towards a live deployment, its state and figures,
every step with who and when; at most one live entry per deployment."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
import msgspec

T = TypeVar("T")
ENTRY_STATES = ("backtesting", "paper", "going_live", "live", "rejected", "failed", "replaced", "rolled_back")


class RegistryEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One registered strategy version (a row of ``strategy_registry``)."""

    id: int
    deployment: str
    strategy: str
    version: str
    parameters: dict[str, Any]
    timer_interval_s: float
    instruments: list[str]
    account: str
    host: str
    state: str
    reason: str
    live_epoch: int | None
    requested_by: str


def _entry(row: asyncpg.Record) -> RegistryEntry:
    return RegistryEntry(
        id=row["id"], deployment=row["deployment"], strategy=row["strategy"], version=row["version"],
        parameters=json.loads(row["parameters"]), timer_interval_s=row["timer_interval_s"],
        instruments=list(row["instruments"]), account=row["account"],
        host=row["host"], state=row["state"], reason=row["reason"], live_epoch=row["live_epoch"],
        requested_by=row["requested_by"],
    )  # fmt: skip


class StrategyRegistry:
    """The registry at ``database_url``; each call is one connection (and one transaction)."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url

    def _run(self, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        async def run() -> T:
            connection = await asyncpg.connect(self.database_url)
            try:
                async with connection.transaction():
                    return await work(connection)
            finally:
                await connection.close()

        return asyncio.run(run())

    def register(
        self, *, deployment: str, strategy: str, version: str, parameters: dict[str, Any], instruments: list[str],
        account: str, host: str, run_id: str, requested_by: str, timer_interval_s: float = 0.0,
    ) -> int:  # fmt: skip
        """A new entry in state ``backtesting``; its id."""
        return self._run(
            lambda c: c.fetchval(
                "INSERT INTO strategy_registry (deployment, strategy, version, parameters, instruments, account, host, state,"
                " run_id, requested_by, timer_interval_s)"
                " VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, 'backtesting', $8, $9, $10) RETURNING id",
                deployment,
                strategy,
                version,
                json.dumps(parameters),
                instruments,
                account,
                host,
                run_id,
                requested_by,
                timer_interval_s,
            )  # fmt: skip
        )

    def step(self, entry_id: int, step: str, outcome: str, by_whom: str, **detail: Any) -> None:
        self._run(
            lambda c: c.execute(
                "INSERT INTO strategy_registry_steps (registry_id, step, outcome, detail, by_whom) VALUES ($1, $2, $3, $4::jsonb, $5)",
                entry_id,
                step,
                outcome,
                json.dumps(detail, default=str),
                by_whom,
            )  # fmt: skip
        )

    def update(self, entry_id: int, state: str, reason: str = "", **figures: Any) -> None:
        """Set an entry's state (and reason), and any of ``backtest_run_id``, ``backtest``, ``paper``."""
        if state not in ENTRY_STATES:
            raise ValueError(f"unknown registry state {state!r}")
        columns = {k: (json.dumps(v, default=str) if k in ("backtest", "paper") else v) for k, v in figures.items()}
        assignments = "".join(f", {name} = ${i}" for i, name in enumerate(columns, 4))
        self._run(
            lambda c: c.execute(
                f"UPDATE strategy_registry SET state = $2, reason = $3, updated_at = now(){assignments} WHERE id = $1",
                entry_id,
                state,
                reason,
                *columns.values(),
            )  # fmt: skip
        )

    def live(self, deployment: str) -> RegistryEntry | None:
        """The entry live on ``deployment``, if any."""
        row = self._run(
            lambda c: c.fetchrow("SELECT * FROM strategy_registry WHERE deployment = $1 AND state = 'live'", deployment)
        )
        return _entry(row) if row else None

    def previous(self, deployment: str) -> RegistryEntry | None:
        """The version ``deployment`` ran before its live one: the entry replaced last."""
        row = self._run(
            lambda c: c.fetchrow(
                "SELECT * FROM strategy_registry WHERE deployment = $1 AND state = 'replaced' ORDER BY updated_at DESC, id DESC"
                " LIMIT 1",
                deployment,
            )
        )
        return _entry(row) if row else None

    def make_live(self, entry_id: int, epoch: int, by_whom: str) -> RegistryEntry | None:
        """``entry_id`` is live at ``epoch``; the entry live before on its deployment is ``replaced``
        (returned). One transaction: the registry never shows two live versions, nor none between."""

        async def work(c: asyncpg.Connection) -> RegistryEntry | None:
            deployment = await c.fetchval("SELECT deployment FROM strategy_registry WHERE id = $1", entry_id)
            before = await c.fetchrow(
                "UPDATE strategy_registry SET state = 'replaced', reason = $2, updated_at = now()"
                " WHERE deployment = $1 AND state = 'live' AND id <> $3 RETURNING *",
                deployment, f"replaced by registry entry {entry_id} (epoch {epoch})", entry_id,
            )  # fmt: skip
            await c.execute(
                "UPDATE strategy_registry SET state = 'live', reason = '', live_epoch = $2, updated_at = now() WHERE id = $1",
                entry_id, epoch,
            )  # fmt: skip
            return _entry(before) if before else None

        return self._run(work)

    def roll_back(self, current_id: int, previous_id: int, epoch: int, reason: str) -> None:
        """``current_id`` is ``rolled_back`` and ``previous_id`` live again at ``epoch``, at once."""

        async def work(c: asyncpg.Connection) -> None:
            await c.execute(
                "UPDATE strategy_registry SET state = 'rolled_back', reason = $2, updated_at = now() WHERE id = $1",
                current_id, reason,
            )  # fmt: skip
            await c.execute(
                "UPDATE strategy_registry SET state = 'live', reason = '', live_epoch = $2, updated_at = now() WHERE id = $1",
                previous_id, epoch,
            )  # fmt: skip

        self._run(work)

    def entries(self, deployment: str) -> list[RegistryEntry]:
        rows = self._run(lambda c: c.fetch("SELECT * FROM strategy_registry WHERE deployment = $1 ORDER BY id", deployment))
        return [_entry(row) for row in rows]

    def steps(self, entry_id: int) -> list[tuple[str, str, dict[str, Any]]]:
        rows = self._run(
            lambda c: c.fetch(
                "SELECT step, outcome, detail FROM strategy_registry_steps WHERE registry_id = $1 ORDER BY seq", entry_id
            )
        )
        return [(r["step"], r["outcome"], json.loads(r["detail"])) for r in rows]
