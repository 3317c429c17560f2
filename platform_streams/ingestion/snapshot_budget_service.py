"""The per-host request budget service (it began as the snapshot budget, hence the names): every
daemon on a host that calls an exchange's REST API asks it first (ingestion before a book snapshot,
execution before each order, cancel, query or fills request), so together they never pass any of
the exchange's limits, per IP or per account (:mod:`request_budget`), and a reconnect of a thousand
books never becomes a 429 storm nor holds up a cancel.

Protocol: JSON lines over a unix socket.
  → {"id": 7, "acquire": {"exchange": "binance", "weight": 250, "priority": 0}}   (a snapshot of weight 250)
  → {"id": 8, "acquire": {"exchange": "binance", "kind": "place", "account": "a1"}}  (costs as the venue declares)
  → {"id": 9, "acquire": {"exchange": "kraken", "kind": "cancel", "account": "a1", "costs": {"orders": 8}}}
  ← {"id": 7, "granted": true}            (or {"id": 7, "error": "..."})
  → {"cancel": 7}                          (the asker gave up; no reply)
  → {"backoff": {"exchange": "binance", "seconds": 30}}   (after a 429/418 Retry-After; no reply)
  → {"backoff": {"exchange": "okx", "seconds": 2, "account": "a1"}}   (an account's limit was refused)
``kind`` is one of :data:`~platform_streams.exchanges.limits.OPERATIONS` (default ``snapshot``) and
ranks the request: cancels first, then orders, then queries and fills, then snapshots; ``priority``
orders requests of one kind. Without ``costs`` a request costs what the exchange's adapter declares
for its kind (a snapshot: ``weight`` times that). A line that is none of these gets
``{"id": <its id or null>, "error": "..."}`` and the connection stays open. A connection that
closes takes its waiting requests with it; the client asks them again on its next connection (a
grant lost in the drop is spent twice, never less), and tells a restarted service the backoffs it
still has to honour. :class:`LocalSnapshotBudget` is the same interface in-process, for a single
daemon; the client is :class:`~platform_streams.ingestion.snapshot_budget_client.SnapshotBudgetClient`.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import stat
import time
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any

import msgspec

from platform_streams.embedded.paths import state_dir
from platform_streams.exchanges.limits import OPERATIONS, RequestLimit, RequestLimits, rest_only
from platform_streams.ingestion.request_budget import BudgetKey, KeyedBudget
from platform_streams.settings import ConfigError

log = logging.getLogger(__name__)

BudgetLimits = Mapping[str, RequestLimits | tuple[int, float]]  # exchange → its limits (a pair: public REST weight per window)

#: How urgent each kind of request is: a cancel never waits behind orders, nor an order behind snapshots,
#: nor a snapshot behind a backfill's history requests.
KIND_RANK = {"cancel": 0, "place": 1, "query": 2, "open_orders": 2, "fills": 2, "markets": 2, "snapshot": 3, "history": 4}
WaitObserver = Callable[[str, str, str, float], None]  # (exchange, scope, kind, seconds waited)

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
    weight: Annotated[int, msgspec.Meta(ge=1)] = 1  # a snapshot's weight
    priority: int = 1
    kind: str = "snapshot"
    account: str = ""  # whose account limits the request counts against (none for public calls)
    costs: dict[str, int] | None = None  # limit name → cost; None: the adapter's declared costs of ``kind``


class BackoffRequest(msgspec.Struct, frozen=True):
    exchange: str
    seconds: Annotated[float, msgspec.Meta(ge=0)]
    account: str = ""  # "" : the whole exchange (the IP was refused); else only this account


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
    weight_granted: int = 0  # on its public ``rest`` limit
    backoffs: int = 0
    refused: int = 0
    waiting: int = 0


def scope_label(account: str) -> str:
    """The ``scope`` of a request in metrics and logs: ``ip``, or the account it counts against."""
    return f"account:{account}" if account else "ip"


class _Scheduler:
    """The host's keyed budget driven by the event loop's clock; waiters are futures."""

    def __init__(self, limits: BudgetLimits, safety: float, burst: float, observe_wait: WaitObserver | None = None) -> None:
        self.limits = {exchange: rest_only(*limit) if isinstance(limit, tuple) else limit for exchange, limit in limits.items()}
        self._budget = KeyedBudget(self._limit_of, time.monotonic(), safety, burst)
        self._stats = {exchange: BudgetStats() for exchange in self.limits}
        self.granted_by: Counter[tuple[str, str, str]] = Counter()  # (exchange, scope, kind) → grants
        self.backoffs_by: Counter[tuple[str, str]] = Counter()  # (exchange, scope) → backoffs
        self._observe_wait = observe_wait
        self._waiters: dict[int, asyncio.Future[None]] = {}
        self._ids = itertools.count()
        self._wakeup: asyncio.TimerHandle | None = None

    def _limit_of(self, key: BudgetKey) -> RequestLimit:
        return self.limits[key[0]].limits[key[1]]

    def _costs(self, request: AcquireRequest) -> dict[BudgetKey, int]:
        """The request's cost per key; ``SnapshotBudgetError`` for what the exchange's limits cannot price."""
        limits = self.limits.get(request.exchange)
        if limits is None:
            raise SnapshotBudgetError(f"no request budget for exchange {request.exchange!r}; known: {sorted(self.limits)}")
        if request.kind not in KIND_RANK:
            raise SnapshotBudgetError(f"unknown request kind {request.kind!r}; known: {', '.join(OPERATIONS)}")
        try:
            costs = request.costs if request.costs is not None else limits.costs_of(request.kind, request.weight)
        except ValueError as exc:
            raise SnapshotBudgetError(f"{request.exchange}: {exc}") from None
        keyed: dict[BudgetKey, int] = {}
        for name, cost in costs.items():
            limit = limits.limits.get(name)
            if limit is None:
                raise SnapshotBudgetError(f"{request.exchange} has no limit {name!r}; known: {sorted(limits.limits)}")
            if limit.scope == "account" and not request.account:
                raise SnapshotBudgetError(f"{request.exchange} limit {name!r} is per account: name the account")
            keyed[(request.exchange, name, request.account if limit.scope == "account" else "")] = cost
        return keyed

    async def acquire(self, request: AcquireRequest) -> None:
        costs = self._costs(request)
        stats = self._stats[request.exchange]
        request_id = next(self._ids)
        try:
            self._budget.request(request_id, costs, (KIND_RANK[request.kind], request.priority))
        except ValueError as exc:
            stats.refused += 1
            raise SnapshotBudgetError(f"{request.exchange}: {exc}") from None
        future = self._waiters[request_id] = asyncio.get_running_loop().create_future()
        asked = time.monotonic()
        self._pump()
        try:
            await future
        except asyncio.CancelledError:
            self._budget.cancel(request_id)
            raise
        finally:
            self._waiters.pop(request_id, None)
        scope = scope_label(request.account)
        stats.grants += 1
        stats.weight_granted += costs.get((request.exchange, "rest", ""), 0)
        self.granted_by[(request.exchange, scope, request.kind)] += 1
        if self._observe_wait is not None:
            self._observe_wait(request.exchange, scope, request.kind, time.monotonic() - asked)

    def backoff(self, exchange: str, seconds: float, account: str = "") -> None:
        if exchange not in self.limits:
            raise SnapshotBudgetError(f"no request budget for exchange {exchange!r}; known: {sorted(self.limits)}")
        log.warning(
            "exchange asked us to back off", extra={"exchange": exchange, "scope": scope_label(account), "seconds": seconds}
        )
        self._stats[exchange].backoffs += 1
        self.backoffs_by[(exchange, scope_label(account))] += 1
        self._budget.backoff(exchange, account, time.monotonic() + seconds)
        self._pump()

    def stats(self) -> dict[str, BudgetStats]:
        waiting = self._budget.waiting_by_exchange()
        for exchange, stats in self._stats.items():
            stats.waiting = waiting.get(exchange, 0)
        return self._stats

    def _pump(self) -> None:
        now = time.monotonic()
        for request_id in self._budget.grants(now):
            future = self._waiters.get(request_id)  # type: ignore[call-overload]
            if future is not None and not future.done():
                future.set_result(None)
        next_at = self._budget.next_grant_at(now)
        if self._wakeup is not None:
            self._wakeup.cancel()
            self._wakeup = None
        if next_at is not None:
            self._wakeup = asyncio.get_running_loop().call_later(max(0.0, next_at - now) + 0.001, self._pump)


class LocalSnapshotBudget:
    """The budget inside one process (when a host runs a single daemon calling the exchange)."""

    def __init__(
        self, limits: BudgetLimits, safety: float = 0.9, burst: float = 0.2, observe_wait: WaitObserver | None = None
    ) -> None:
        self._scheduler = _Scheduler(limits, safety, burst, observe_wait)

    async def acquire(
        self, exchange: str, weight: int = 1, priority: int = 1, *, kind: str = "snapshot", account: str = "",
        costs: dict[str, int] | None = None,
    ) -> None:  # fmt: skip
        if weight < 1:
            raise SnapshotBudgetError(f"{exchange}: request weight must be at least 1, not {weight}")
        await self._scheduler.acquire(AcquireRequest(exchange, weight, priority, kind, account, costs))

    async def backoff(self, exchange: str, seconds: float, account: str = "") -> None:
        self._scheduler.backoff(exchange, seconds, account)

    async def close(self) -> None:
        """Nothing to release; the same call as :meth:`SnapshotBudgetClient.close`."""


# -- the server ---------------------------------------------------------------------------------------
class SnapshotBudgetServer:
    """Serves one scheduler to every process on the host over a unix socket."""

    def __init__(
        self, socket_path: Path, limits: BudgetLimits, safety: float = 0.9, burst: float = 0.2,
        observe_wait: WaitObserver | None = None,
    ) -> None:  # fmt: skip
        self.socket_path = Path(socket_path)
        self._scheduler = _Scheduler(limits, safety, burst, observe_wait)
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

    @property
    def scheduler(self) -> _Scheduler:
        return self._scheduler

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
                self._scheduler.backoff(request.backoff.exchange, request.backoff.seconds, request.backoff.account)
            except SnapshotBudgetError as exc:
                self._reply(writer, BudgetReply(request.id, error=str(exc)))

    async def _grant(self, writer: asyncio.StreamWriter, request_id: int, request: AcquireRequest) -> None:
        try:
            await self._scheduler.acquire(request)
            reply = BudgetReply(request_id, granted=True)
        except SnapshotBudgetError as exc:
            reply = BudgetReply(request_id, error=str(exc))
        self._reply(writer, reply)

    @staticmethod
    def _reply(writer: asyncio.StreamWriter, reply: BudgetReply) -> None:
        if not writer.is_closing():
            writer.write(_encoder.encode(reply) + b"\n")
