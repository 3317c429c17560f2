"""The per-host snapshot budget service: every ingestion daemon on a host asks it before
a REST snapshot, so a reconnect of a thousand books never becomes a 429 storm.

Protocol: JSON lines over a unix socket.
  → {"id": 7, "acquire": {"exchange": "binance", "weight": 250, "priority": 0}}
  ← {"id": 7, "granted": true}            (or {"id": 7, "error": "..."})
  → {"cancel": 7}                          (the asker gave up; no reply)
  → {"backoff": {"exchange": "binance", "seconds": 30}}   (after a 429/418 Retry-After; no reply)
A line that is none of these gets ``{"id": <its id or null>, "error": "..."}`` and the
connection stays open. A connection that closes takes its waiting requests with it; the
client asks them again on its next connection (a grant lost in the drop is spent twice,
never less), and tells a restarted service the backoffs it still has to honour.
:class:`LocalSnapshotBudget` is the same interface in-process, for a single daemon; the
client is :class:`~platform_streams.ingestion.snapshot_budget_client.SnapshotBudgetClient`.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import stat
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import msgspec

from platform_streams.embedded.paths import state_dir
from platform_streams.ingestion.snapshot_budget import WeightBudget
from platform_streams.settings import ConfigError

log = logging.getLogger(__name__)

BudgetLimits = Mapping[str, tuple[int, float]]  # exchange → (weight, window seconds)

UNIX_SOCKET_PATH_MAX = 107  # bytes in sockaddr_un.sun_path, less the terminating NUL (Linux)


class SnapshotBudgetError(RuntimeError):
    """A request the budget refuses (unknown exchange, weight above its capacity): asking again cannot help."""


class SnapshotBudgetUnavailable(SnapshotBudgetError):
    """The budget service did not answer within the client's connect timeout: worth asking again later."""


def budget_socket_path(setting: str) -> Path:
    """The unix socket a ``socket``/``budget_socket`` setting names: an absolute path as it is, a
    relative one under the state folder, so every daemon of the host finds the same file whatever
    its working directory."""
    path = Path(setting).expanduser()
    if not path.is_absolute():
        path = state_dir() / path
    if len(os.fsencode(path)) > UNIX_SOCKET_PATH_MAX:
        raise ConfigError(
            f"snapshot budget socket {str(path)!r} is longer than a unix socket path may be "
            f"({UNIX_SOCKET_PATH_MAX} bytes); give an absolute path that is shorter"
        )
    return path


# -- the protocol's messages ---------------------------------------------------------------------
class AcquireRequest(msgspec.Struct, frozen=True):
    exchange: str
    weight: Annotated[int, msgspec.Meta(ge=1)]
    priority: int = 1


class BackoffRequest(msgspec.Struct, frozen=True):
    exchange: str
    seconds: Annotated[float, msgspec.Meta(ge=0)]


class BudgetRequest(msgspec.Struct, frozen=True, omit_defaults=True):
    """One line from a client: exactly one of ``acquire`` (with an ``id``), ``cancel`` or ``backoff``."""

    id: int | None = None
    acquire: AcquireRequest | None = None
    cancel: int | None = None
    backoff: BackoffRequest | None = None


class BudgetReply(msgspec.Struct, frozen=True, omit_defaults=True):
    id: int | None
    granted: bool = False
    error: str = ""


_request_decoder = msgspec.json.Decoder(BudgetRequest)
_encoder = msgspec.json.Encoder()


def _id_of(line: bytes) -> int | None:
    """The ``id`` of a line that failed validation, so its sender still learns which request failed."""
    try:
        message = msgspec.json.decode(line)
    except msgspec.DecodeError:
        return None
    request_id = message.get("id") if isinstance(message, dict) else None
    return request_id if isinstance(request_id, int) and not isinstance(request_id, bool) else None


# -- the scheduler -----------------------------------------------------------------------------------
class BudgetStats(msgspec.Struct):
    """What one exchange's budget has done since the service started (read by the metrics)."""

    grants: int = 0
    weight_granted: int = 0
    backoffs: int = 0
    refused: int = 0
    waiting: int = 0


class _Scheduler:
    """Budgets per exchange driven by the event loop's clock; waiters are futures."""

    def __init__(self, limits: BudgetLimits, safety: float, burst: float) -> None:
        now = time.monotonic()
        self.budgets = {
            exchange: WeightBudget(weight, window, now, safety, burst) for exchange, (weight, window) in limits.items()
        }
        self._stats = {exchange: BudgetStats() for exchange in self.budgets}
        self._waiters: dict[int, tuple[asyncio.Future[None], str, int]] = {}
        self._ids = itertools.count()
        self._wakeup: asyncio.TimerHandle | None = None

    async def acquire(self, exchange: str, weight: int, priority: int) -> None:
        budget = self.budgets.get(exchange)
        if budget is None:
            raise SnapshotBudgetError(f"no snapshot budget for exchange {exchange!r}; known: {sorted(self.budgets)}")
        request_id = next(self._ids)
        try:
            if weight < 1:
                raise ValueError(f"request weight must be at least 1, not {weight}")
            budget.request(request_id, weight, priority)
        except ValueError as exc:
            self._stats[exchange].refused += 1
            raise SnapshotBudgetError(f"{exchange}: {exc}") from None
        future = asyncio.get_running_loop().create_future()
        self._waiters[request_id] = (future, exchange, weight)
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
        if budget is None:
            raise SnapshotBudgetError(f"no snapshot budget for exchange {exchange!r}; known: {sorted(self.budgets)}")
        log.warning("exchange asked us to back off", extra={"exchange": exchange, "seconds": seconds})
        self._stats[exchange].backoffs += 1
        budget.block_until(time.monotonic() + seconds)
        self._pump()

    def stats(self) -> dict[str, BudgetStats]:
        for exchange, budget in self.budgets.items():
            self._stats[exchange].waiting = budget.waiting
        return self._stats

    def _pump(self) -> None:
        now = time.monotonic()
        next_at: float | None = None
        for budget in self.budgets.values():
            for request_id in budget.grants(now):
                future, exchange, weight = self._waiters.get(request_id, (None, "", 0))
                if future is not None and not future.done():
                    future.set_result(None)
                    self._stats[exchange].grants += 1
                    self._stats[exchange].weight_granted += weight
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

    async def close(self) -> None:
        """Nothing to release; the same call as :meth:`SnapshotBudgetClient.close`."""


# -- the server ---------------------------------------------------------------------------------------
class SnapshotBudgetServer:
    """Serves one scheduler to every process on the host over a unix socket."""

    def __init__(self, socket_path: Path, limits: BudgetLimits, safety: float = 0.9, burst: float = 0.2) -> None:
        self.socket_path = Path(socket_path)
        self._scheduler = _Scheduler(limits, safety, burst)
        self._server: asyncio.AbstractServer | None = None
        self._socket_inode: int | None = None
        self._clients: dict[asyncio.StreamWriter, asyncio.Task[Any]] = {}  # writer → its connection's handler
        self.requests = 0  # acquire requests received
        self.malformed = 0  # lines answered with "malformed request"

    @property
    def clients(self) -> int:
        return len(self._clients)

    def stats(self) -> dict[str, BudgetStats]:
        return self._scheduler.stats()

    async def start(self) -> None:
        self.socket_path.parent.mkdir(parents=True, exist_ok=True)
        await self._claim_socket_path()
        self._server = await asyncio.start_unix_server(self._serve, path=str(self.socket_path))
        self._socket_inode = self.socket_path.stat().st_ino

    async def _claim_socket_path(self) -> None:
        """Removes a socket left by a service that died; refuses to start where another service
        answers, since two budgets on one host would each spend the exchange's whole weight."""
        try:
            mode = self.socket_path.lstat().st_mode
        except FileNotFoundError:
            return
        if not stat.S_ISSOCK(mode):
            raise SnapshotBudgetError(f"{self.socket_path} exists and is not a socket; not replacing it")
        try:
            _, writer = await asyncio.open_unix_connection(str(self.socket_path))
        except OSError:  # nobody listens: a killed service's leftover
            self.socket_path.unlink(missing_ok=True)
            return
        writer.close()
        raise SnapshotBudgetError(f"another snapshot budget service is already serving at {self.socket_path}")

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            handlers = list(self._clients.values())
            for writer in list(self._clients):  # Server.wait_closed waits for its connections (3.12+)
                writer.close()
            if handlers:  # each ends at its connection's close, cancelling the requests still waiting
                await asyncio.wait(handlers, timeout=5)
            await self._server.wait_closed()
            self._server = None
        try:
            ours = self._socket_inode is not None and self.socket_path.stat().st_ino == self._socket_inode
        except FileNotFoundError:
            ours = False
        if ours:  # never remove the socket of a service that has replaced this one
            self.socket_path.unlink(missing_ok=True)
        self._socket_inode = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handler = asyncio.current_task()
        assert handler is not None
        self._clients[writer] = handler
        waiting: dict[int, asyncio.Task[None]] = {}
        try:
            while line := await reader.readline():
                self._handle(line, writer, waiting)
        except ValueError:  # a line past the stream's limit: not a client of ours
            self._reply(writer, BudgetReply(None, error="malformed request: line too long"))
        except ConnectionError:
            pass  # the client went away; its waiting requests go with it
        finally:
            for task in waiting.values():
                task.cancel()
            self._clients.pop(writer, None)
            writer.close()

    def _handle(self, line: bytes, writer: asyncio.StreamWriter, waiting: dict[int, asyncio.Task[None]]) -> None:
        try:
            request = _request_decoder.decode(line)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            self.malformed += 1
            self._reply(writer, BudgetReply(_id_of(line), error=f"malformed request: {exc}"))
            return
        kinds = [kind for kind in (request.acquire, request.cancel, request.backoff) if kind is not None]
        if len(kinds) != 1 or (request.acquire is not None and request.id is None):
            self.malformed += 1
            reason = "an acquire needs an id" if len(kinds) == 1 else "expected exactly one of acquire, cancel, backoff"
            self._reply(writer, BudgetReply(request.id, error=f"malformed request: {reason}"))
        elif request.acquire is not None and request.id is not None:
            if request.id in waiting:
                self._reply(writer, BudgetReply(request.id, error=f"request {request.id} is already waiting"))
                return
            self.requests += 1
            task = waiting[request.id] = asyncio.create_task(self._grant(writer, request.id, request.acquire))
            task.add_done_callback(lambda _, request_id=request.id: waiting.pop(request_id, None))
        elif request.cancel is not None:
            if (task := waiting.get(request.cancel)) is not None:
                task.cancel()
        elif request.backoff is not None:
            try:
                self._scheduler.backoff(request.backoff.exchange, request.backoff.seconds)
            except SnapshotBudgetError as exc:
                self._reply(writer, BudgetReply(request.id, error=str(exc)))

    async def _grant(self, writer: asyncio.StreamWriter, request_id: int, request: AcquireRequest) -> None:
        try:
            await self._scheduler.acquire(request.exchange, request.weight, request.priority)
            reply = BudgetReply(request_id, granted=True)
        except SnapshotBudgetError as exc:
            reply = BudgetReply(request_id, error=str(exc))
        self._reply(writer, reply)

    @staticmethod
    def _reply(writer: asyncio.StreamWriter, reply: BudgetReply) -> None:
        if not writer.is_closing():
            writer.write(_encoder.encode(reply) + b"\n")
