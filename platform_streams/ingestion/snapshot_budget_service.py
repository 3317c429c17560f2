"""The per-host snapshot budget service: every ingestion daemon on a host asks it before
a REST snapshot, so a reconnect of a thousand books never becomes a 429 storm.

Protocol: JSON lines over a unix socket.
  → {"id": 7, "acquire": {"exchange": "binance", "weight": 250, "priority": 0}}
  ← {"id": 7, "granted": true}            (or {"id": 7, "error": "..."})
  → {"backoff": {"exchange": "binance", "seconds": 30}}   (after a 429/418 Retry-After)
:class:`LocalSnapshotBudget` is the same interface in-process, for a single daemon.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from collections.abc import Mapping
from pathlib import Path

from platform_streams.ingestion.snapshot_budget import WeightBudget

log = logging.getLogger(__name__)

BudgetLimits = Mapping[str, tuple[int, float]]  # exchange → (weight, window seconds)


class SnapshotBudgetError(RuntimeError):
    """A request the budget cannot serve (unknown exchange, weight above capacity, service gone)."""


class _Scheduler:
    """Budgets per exchange driven by the event loop's clock; waiters are futures."""

    def __init__(self, limits: BudgetLimits, safety: float, burst: float) -> None:
        now = time.monotonic()
        self.budgets = {
            exchange: WeightBudget(weight, window, now, safety, burst) for exchange, (weight, window) in limits.items()
        }
        self._waiters: dict[int, asyncio.Future[None]] = {}
        self._ids = itertools.count()
        self._wakeup: asyncio.TimerHandle | None = None

    async def acquire(self, exchange: str, weight: int, priority: int) -> None:
        budget = self.budgets.get(exchange)
        if budget is None:
            raise SnapshotBudgetError(f"no snapshot budget for exchange {exchange!r}; known: {sorted(self.budgets)}")
        request_id = next(self._ids)
        try:
            budget.request(request_id, weight, priority)
        except ValueError as exc:
            raise SnapshotBudgetError(str(exc)) from None
        future = self._waiters[request_id] = asyncio.get_running_loop().create_future()
        self._pump()
        try:
            await future
        except asyncio.CancelledError:
            budget.cancel(request_id)
            raise
        finally:
            self._waiters.pop(request_id, None)

    def backoff(self, exchange: str, seconds: float) -> None:
        budget = self.budgets.get(exchange)
        if budget is not None:
            log.warning("exchange asked us to back off", extra={"exchange": exchange, "seconds": seconds})
            budget.block_until(time.monotonic() + seconds)
            self._pump()

    def _pump(self) -> None:
        now = time.monotonic()
        next_at: float | None = None
        for budget in self.budgets.values():
            for request_id in budget.grants(now):
                future = self._waiters.get(request_id)
                if future is not None and not future.done():
                    future.set_result(None)
            at = budget.next_grant_at(now)
            if at is not None and (next_at is None or at < next_at):
                next_at = at
        if self._wakeup is not None:
            self._wakeup.cancel()
            self._wakeup = None
        if next_at is not None:
            self._wakeup = asyncio.get_running_loop().call_later(max(0.0, next_at - now) + 0.001, self._pump)


class LocalSnapshotBudget:
    """The budget inside one process (when a host runs a single ingestion daemon)."""

    def __init__(self, limits: BudgetLimits, safety: float = 0.9, burst: float = 0.2) -> None:
        self._scheduler = _Scheduler(limits, safety, burst)

    async def acquire(self, exchange: str, weight: int, priority: int = 1) -> None:
        await self._scheduler.acquire(exchange, weight, priority)

    async def backoff(self, exchange: str, seconds: float) -> None:
        self._scheduler.backoff(exchange, seconds)


class SnapshotBudgetServer:
    """Serves one scheduler to every process on the host over a unix socket."""

    def __init__(self, socket_path: Path, limits: BudgetLimits, safety: float = 0.9, burst: float = 0.2) -> None:
        self.socket_path = Path(socket_path)
        self._scheduler = _Scheduler(limits, safety, burst)
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        self.socket_path.parent.mkdir(parents=True, exist_ok=True)
        self.socket_path.unlink(missing_ok=True)
        self._server = await asyncio.start_unix_server(self._serve, path=str(self.socket_path))

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        self.socket_path.unlink(missing_ok=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        pending: set[asyncio.Task[None]] = set()
        try:
            while line := await reader.readline():
                try:
                    message = json.loads(line)
                except ValueError:
                    writer.write(b'{"error": "not JSON"}\n')
                    continue
                if "backoff" in message:
                    self._scheduler.backoff(message["backoff"]["exchange"], float(message["backoff"]["seconds"]))
                elif "acquire" in message:
                    task = asyncio.create_task(self._grant(writer, message))
                    pending.add(task)
                    task.add_done_callback(pending.discard)
        finally:
            for task in pending:
                task.cancel()
            writer.close()

    async def _grant(self, writer: asyncio.StreamWriter, message: dict) -> None:
        request = message["acquire"]
        try:
            await self._scheduler.acquire(request["exchange"], int(request["weight"]), int(request.get("priority", 1)))
            reply = {"id": message.get("id"), "granted": True}
        except (SnapshotBudgetError, KeyError, ValueError) as exc:
            reply = {"id": message.get("id"), "error": str(exc)}
        writer.write(json.dumps(reply).encode() + b"\n")


class SnapshotBudgetClient:
    """A daemon's connection to the host's budget service (one socket, requests multiplexed)."""

    def __init__(self, socket_path: Path) -> None:
        self.socket_path = Path(socket_path)
        self._writer: asyncio.StreamWriter | None = None
        self._waiters: dict[int, asyncio.Future[dict]] = {}
        self._ids = itertools.count()
        self._reader_task: asyncio.Task[None] | None = None

    async def _connect(self) -> asyncio.StreamWriter:
        if self._writer is None or self._writer.is_closing():
            try:
                reader, self._writer = await asyncio.open_unix_connection(str(self.socket_path))
            except OSError as exc:
                raise SnapshotBudgetError(f"snapshot budget service at {self.socket_path} is not reachable: {exc}") from exc
            self._reader_task = asyncio.create_task(self._read(reader))
        return self._writer

    async def _read(self, reader: asyncio.StreamReader) -> None:
        while line := await reader.readline():
            reply = json.loads(line)
            future = self._waiters.pop(reply.get("id"), None)
            if future is not None and not future.done():
                future.set_result(reply)
        for future in self._waiters.values():
            if not future.done():
                future.set_exception(SnapshotBudgetError("snapshot budget service closed the connection"))
        self._waiters.clear()

    async def acquire(self, exchange: str, weight: int, priority: int = 1) -> None:
        writer = await self._connect()
        request_id = next(self._ids)
        future = self._waiters[request_id] = asyncio.get_running_loop().create_future()
        writer.write(
            json.dumps({"id": request_id, "acquire": {"exchange": exchange, "weight": weight, "priority": priority}}).encode()
            + b"\n"
        )
        reply = await future
        if "error" in reply:
            raise SnapshotBudgetError(reply["error"])

    async def backoff(self, exchange: str, seconds: float) -> None:
        writer = await self._connect()
        writer.write(json.dumps({"backoff": {"exchange": exchange, "seconds": seconds}}).encode() + b"\n")

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        if self._reader_task is not None:
            self._reader_task.cancel()
