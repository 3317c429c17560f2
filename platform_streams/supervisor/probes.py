"""Health probes of the platform's servers, each run by a background thread so a server that does
not answer never holds up the supervisor's loop.

A probe asks what a client needs: the broker for its metadata, the database for ``SELECT 1``,
the Dagster webserver for ``/server_info``. The thread keeps the outcome for the supervisor
(started → ready) and the status (a server that is up but does not answer is "unresponsive").
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import urllib.error
import urllib.request
from typing import Protocol

import asyncpg
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from platform_streams.kafka_clients import admin_settings

log = logging.getLogger(__name__)


class ProbeFailed(Exception):
    """The server did not answer as a client needs it to."""


class Probe(Protocol):
    def check(self, timeout_s: float) -> None:
        """Return if the server answers; raise :class:`ProbeFailed` with the reason if not."""


class KafkaProbe:
    """The broker answers a metadata request and lists at least one broker."""

    def __init__(self, bootstrap_servers: str) -> None:
        # log_level 0: a broker that is down is what this probe is for, not something to log every second
        self._admin = AdminClient({**admin_settings(bootstrap_servers), "log_level": 0})

    def check(self, timeout_s: float) -> None:
        try:
            metadata = self._admin.list_topics(timeout=timeout_s)
        except KafkaException as exc:
            raise ProbeFailed(f"no metadata: {exc.args[0].str() if exc.args else exc}") from None
        if not metadata.brokers:
            raise ProbeFailed("metadata lists no broker")


class PostgresProbe:
    """The database accepts a connection and answers ``SELECT 1``."""

    def __init__(self, database_url: str) -> None:
        self._url = database_url
        self._loop = asyncio.new_event_loop()  # owned by the probe's thread

    def check(self, timeout_s: float) -> None:
        try:
            self._loop.run_until_complete(asyncio.wait_for(self._select_one(timeout_s), timeout_s))
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise ProbeFailed(f"{type(exc).__name__}: {exc}") from None

    async def _select_one(self, timeout_s: float) -> None:
        connection = await asyncpg.connect(self._url, timeout=timeout_s)
        try:
            await connection.fetchval("SELECT 1")
        finally:
            await connection.close(timeout=timeout_s)


class HttpProbe:
    """An HTTP endpoint answers 200."""

    def __init__(self, url: str) -> None:
        self._url = url

    def check(self, timeout_s: float) -> None:
        try:
            with urllib.request.urlopen(self._url, timeout=timeout_s) as response:
                if response.status != 200:
                    raise ProbeFailed(f"HTTP {response.status} from {self._url}")
        except (urllib.error.URLError, OSError) as exc:
            raise ProbeFailed(f"{self._url}: {exc}") from None


class ProbeResult:
    """The latest outcome of a probe (times in seconds since the epoch)."""

    __slots__ = ("checked_at", "ok", "ok_at", "failing_since", "error")

    def __init__(self) -> None:
        self.checked_at = 0.0
        self.ok: bool | None = None  # None: not checked yet
        self.ok_at = 0.0
        self.failing_since: float | None = None
        self.error = ""


class ProbeLoop:
    """Checks a probe every ``interval_s`` on a daemon thread; :attr:`result` is its latest outcome."""

    def __init__(self, name: str, probe: Probe, interval_s: float = 0.5, timeout_s: float = 2.0) -> None:
        self.name = name
        self._probe = probe
        self._interval_s = interval_s
        self._timeout_s = timeout_s
        self.result = ProbeResult()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"probe-{name}", daemon=True)

    def start(self) -> ProbeLoop:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self._timeout_s + 2)

    def ok_since(self, since: float) -> bool:
        """Whether a check that started after ``since`` succeeded (the server answered since then)."""
        return bool(self.result.ok) and self.result.ok_at > since

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.time()
            try:
                self._probe.check(self._timeout_s)
            except ProbeFailed as exc:
                self._record(started, ok=False, error=str(exc))
            else:
                self._record(started, ok=True, error="")
            self._stop.wait(max(self._interval_s - (time.time() - started), 0.05))

    def _record(self, started: float, ok: bool, error: str) -> None:
        result = ProbeResult()
        result.checked_at = time.time()
        result.ok = ok
        result.error = error
        previous = self.result
        # a success counts from when its check began: the server answered a request sent after that
        result.ok_at = started if ok else previous.ok_at
        result.failing_since = None if ok else (previous.failing_since or started)
        self.result = result  # replaced whole: readers on other threads see one consistent outcome
