"""A daemon's side of the host's snapshot budget service (protocol in :mod:`snapshot_budget_service`).

The service may start after the daemon or restart under it: connecting is retried for a
bounded time, requests waiting when the connection drops are asked again on the next one,
and a restarted service is told the backoffs it still has to honour.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
import time
from pathlib import Path
from typing import Any

import msgspec

from platform_streams.ingestion.snapshot_budget_service import (
    BudgetReply,
    SnapshotBudgetError,
    SnapshotBudgetUnavailable,
)

log = logging.getLogger(__name__)

_reply_decoder = msgspec.json.Decoder(BudgetReply)
_encoder = msgspec.json.Encoder()


class _ConnectionLost(Exception):
    """The service closed the connection (stopped or restarted) before replying."""


class _BudgetConnection:
    """One connection to the service: requests multiplexed by id, replies matched as they come."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, socket_path: Path) -> None:
        self._writer = writer
        self._socket_path = socket_path
        self._waiters: dict[int, asyncio.Future[BudgetReply]] = {}
        self._ids = itertools.count()
        self.lost = False
        self._reader = asyncio.create_task(self._read(reader))

    async def request(self, body: dict[str, Any]) -> BudgetReply:
        if self.lost:
            raise _ConnectionLost
        request_id = next(self._ids)
        future = self._waiters[request_id] = asyncio.get_running_loop().create_future()
        self.send({"id": request_id, **body})
        try:
            return await future
        except asyncio.CancelledError:
            self.send({"cancel": request_id})  # free its place in the queue (and the weight it would spend)
            raise
        finally:
            self._waiters.pop(request_id, None)

    def send(self, body: dict[str, Any]) -> None:
        if not self.lost and not self._writer.is_closing():
            self._writer.write(_encoder.encode(body) + b"\n")

    async def _read(self, reader: asyncio.StreamReader) -> None:
        reason = "closed by the service"
        try:
            while line := await reader.readline():
                try:
                    reply = _reply_decoder.decode(line)
                except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                    log.warning("undecodable reply from the snapshot budget service", extra={"error": str(exc)})
                    continue
                future = self._waiters.get(reply.id) if reply.id is not None else None
                if future is not None and not future.done():
                    future.set_result(reply)
                elif reply.error:
                    log.warning("snapshot budget service refused a message", extra={"error": reply.error})
        except (ConnectionError, ValueError) as exc:
            reason = f"{type(exc).__name__}: {exc}"
        finally:
            self.lost = True
            waiting = [future for future in self._waiters.values() if not future.done()]
            if waiting:
                log.warning(
                    "snapshot budget connection lost; asking again",
                    extra={"socket": str(self._socket_path), "reason": reason, "waiting": len(waiting)},
                )
            for future in waiting:
                future.set_exception(_ConnectionLost())
            self._writer.close()

    def close(self) -> None:
        self._writer.close()
        self._reader.cancel()


class SnapshotBudgetClient:
    """A daemon's connection to the host's budget service (one socket, requests multiplexed).

    The service may start after the daemon or restart under it: connecting is retried for
    ``connect_timeout_s`` before :class:`SnapshotBudgetUnavailable`, and requests waiting when
    the connection drops are asked again on the next one."""

    def __init__(self, socket_path: Path, connect_timeout_s: float = 30.0) -> None:
        self.socket_path = Path(socket_path)
        self.connect_timeout_s = connect_timeout_s
        self._connection: _BudgetConnection | None = None
        self._opening: asyncio.Task[_BudgetConnection] | None = None
        self._backoffs: dict[tuple[str, str], float] = {}  # (exchange, account) → monotonic time it is blocked until
        self._closed = False

    async def acquire(
        self, exchange: str, weight: int = 1, priority: int = 1, *, kind: str = "snapshot", account: str = "",
        costs: dict[str, int] | None = None,
    ) -> None:  # fmt: skip
        """Waits until the service grants the request (see the protocol in :mod:`snapshot_budget_service`)."""
        acquire: dict[str, Any] = {"exchange": exchange, "weight": weight, "priority": priority, "kind": kind}
        if account:
            acquire["account"] = account
        if costs is not None:
            acquire["costs"] = costs
        body = {"acquire": acquire}
        losses = 0
        while True:
            connection = await self._connected()
            try:
                reply = await connection.request(body)
            except _ConnectionLost:
                losses += 1  # a service that accepts and drops at once must not make this spin
                await asyncio.sleep(min(1.0, 0.02 * 2**losses) * random.uniform(0.5, 1.0))
                continue
            if reply.error:
                raise SnapshotBudgetError(reply.error)
            return

    async def backoff(self, exchange: str, seconds: float, account: str = "") -> None:
        """Tells the service now if connected, else when the next connection opens (with the time left);
        ``account`` empty blocks the whole exchange, else only that account's limits."""
        until = time.monotonic() + seconds
        self._backoffs[(exchange, account)] = max(self._backoffs.get((exchange, account), 0.0), until)
        if self._connection is not None:
            self._connection.send({"backoff": _backoff_body(exchange, seconds, account)})

    async def _connected(self) -> _BudgetConnection:
        if self._closed:
            raise SnapshotBudgetUnavailable(f"snapshot budget client of {self.socket_path} is closed")
        if self._connection is not None and not self._connection.lost:
            return self._connection
        if self._opening is None:  # one attempt shared by every caller, so a dead service costs one timeout
            self._opening = asyncio.create_task(self._open())
            self._opening.add_done_callback(self._opened)
        return await asyncio.shield(self._opening)

    def _opened(self, task: asyncio.Task[_BudgetConnection]) -> None:
        self._opening = None
        if not task.cancelled():
            task.exception()  # retrieved here too: every caller may have given up meanwhile

    async def _open(self) -> _BudgetConnection:
        deadline = time.monotonic() + self.connect_timeout_s
        delay = 0.05
        while True:
            try:
                reader, writer = await asyncio.open_unix_connection(str(self.socket_path))
                break
            except OSError as exc:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    log.error(
                        "snapshot budget service not reachable",
                        extra={"socket": str(self.socket_path), "waited_s": self.connect_timeout_s, "error": str(exc)},
                    )
                    raise SnapshotBudgetUnavailable(
                        f"snapshot budget service at {self.socket_path} is not reachable "
                        f"(retried for {self.connect_timeout_s:g} s): {exc}"
                    ) from exc
                if delay == 0.05:
                    log.info("waiting for the snapshot budget service", extra={"socket": str(self.socket_path)})
                await asyncio.sleep(min(delay, remaining))
                delay = min(delay * 2, 1.0)
        connection = self._connection = _BudgetConnection(reader, writer, self.socket_path)
        now = time.monotonic()
        for (exchange, account), until in self._backoffs.items():  # a restarted service has forgotten them
            if until > now:
                connection.send({"backoff": _backoff_body(exchange, until - now, account)})
        return connection

    async def close(self) -> None:
        self._closed = True
        if self._opening is not None:
            self._opening.cancel()
        if self._connection is not None:
            self._connection.close()


def _backoff_body(exchange: str, seconds: float, account: str) -> dict[str, Any]:
    return {"exchange": exchange, "seconds": seconds, **({"account": account} if account else {})}
