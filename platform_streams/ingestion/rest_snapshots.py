"""REST book snapshots through the snapshot budget, honouring the exchange's 429/418 ``Retry-After``."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from typing import Protocol

import aiohttp

from platform_streams.ingestion.snapshot_budget_service import SnapshotBudgetUnavailable

log = logging.getLogger(__name__)


class SnapshotBudget(Protocol):
    async def acquire(self, exchange: str, weight: int, priority: int = 1) -> None: ...

    async def backoff(self, exchange: str, seconds: float) -> None: ...


class SnapshotUnavailable(RuntimeError):
    """The exchange answered with an error that retrying will not fix (400, 404)."""


class RestSnapshotClient:
    """Fetches REST bodies (book snapshots) for one exchange, within the shared budget.

    At most ``max_in_flight`` requests are outstanding at once: should the exchange refuse
    one (its weight spent by someone the budget does not see), only those few are refused
    before everyone backs off; a burst of refusals is what gets an IP banned (Binance's 418)."""

    def __init__(
        self, exchange: str, base_url: str, budget: SnapshotBudget, timeout_s: float = 10.0, max_in_flight: int = 2
    ) -> None:
        self.exchange = exchange
        self._base_url = base_url.rstrip("/")
        self._budget = budget
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None
        self._in_flight = asyncio.Semaphore(max_in_flight)
        self._resume_at = 0.0  # monotonic: no request before (the exchange's last Retry-After)
        self.rate_limited = 0
        self.banned = 0  # 418s among the rate_limited: the exchange banned the IP for a while
        self.fetched = 0
        self.budget_unavailable = 0  # acquires that found the budget service unreachable (asked again)

    async def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout, trust_env=False)
        return self._session

    async def get(self, path: str, weight: int, priority: int = 1) -> tuple[bytes, int]:
        """The body of ``GET path`` and its receive time (ns); waits out budgets, bans and a budget
        service that is down. A request the budget refuses raises :class:`SnapshotBudgetError`."""
        failures = 0
        while True:
            try:
                await self._budget.acquire(self.exchange, weight, priority)
            except SnapshotBudgetUnavailable:
                # the host's budget service is down (the client logged it): no snapshot without it,
                # so wait and ask again; the supervisor brings it back and the book gets its snapshot
                self.budget_unavailable += 1
                await asyncio.sleep(random.uniform(1.0, 2.0))
                continue
            session = await self._http()
            try:
                async with self._in_flight:
                    # granted before a refusal that came since: wait as the exchange said, whatever the grant
                    if (wait := self._resume_at - time.monotonic()) > 0:
                        await asyncio.sleep(wait)
                    async with session.get(self._base_url + path) as response:
                        body = await response.read()
                        received = time.time_ns()
                        if response.status == 200:
                            self.fetched += 1
                            return body, received
                        if response.status in (418, 429):
                            self.rate_limited += 1
                            self.banned += response.status == 418
                            retry_after = float(response.headers.get("Retry-After", "60"))
                            log.warning(
                                "rate limited on a snapshot",
                                extra={"exchange": self.exchange, "status": response.status, "retry_after_s": retry_after},
                            )
                            self._resume_at = max(self._resume_at, time.monotonic() + retry_after)
                            await self._budget.backoff(self.exchange, retry_after)
                            continue
                        if 400 <= response.status < 500:
                            raise SnapshotUnavailable(f"{self.exchange} {path}: HTTP {response.status}: {body[:200]!r}")
                        reason = f"HTTP {response.status}"
            except (aiohttp.ClientError, TimeoutError) as exc:
                reason = f"{type(exc).__name__}: {exc}"
            failures += 1
            delay = min(30.0, 0.5 * 2 ** min(failures, 6)) * random.uniform(0.5, 1.0)
            log.warning(
                "snapshot request failed; retrying",
                extra={"exchange": self.exchange, "path": path, "reason": reason, "retry_in_s": round(delay, 2)},
            )
            await asyncio.sleep(delay)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
