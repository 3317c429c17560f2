"""The Dagster UI and daemon for the local stack, with run storage in PostgreSQL.

``dagster-webserver`` and ``dagster-daemon`` load ``workspace.yaml`` as separate
processes (each in its own session, so SIGTERM stops its whole tree), supervised by
``tradeplat up`` like the broker and the database (restarted if they exit). Their
instance lives in ``state/dagster`` and stores runs, event logs and schedules in
the platform's PostgreSQL, in a database of its own.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import asyncpg

from platform_streams.embedded.paths import REPOSITORY_ROOT
from platform_streams.embedded.processes import ChildProcess, ServerStartError

log = logging.getLogger(__name__)

_READY_QUERY = '{"query": "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus locationOrLoadError { __typename } } } } }"}'


class DagsterUIError(ServerStartError):
    """The Dagster UI did not come up."""


def dagster_storage_url(database_url: str) -> str:
    """The SQLAlchemy URL Dagster needs: psycopg2 named explicitly (SQLAlchemy 2.1 defaults to psycopg 3)."""
    scheme, _, rest = database_url.partition("://")
    if scheme not in ("postgres", "postgresql", "postgresql+psycopg2"):
        raise DagsterUIError(f"unsupported database URL scheme {scheme!r} for Dagster storage")
    return f"postgresql+psycopg2://{rest}"


async def ensure_database(server_url: str, name: str) -> str:
    """Create database ``name`` next to ``server_url``'s if missing; returns its URL."""
    connection = await asyncpg.connect(server_url)
    try:
        if not await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    head, sep, query = server_url.partition("?")
    return f"{head.rsplit('/', 1)[0]}/{name}{sep}{query}"


class DagsterUI:
    """Supervised ``dagster-webserver`` + ``dagster-daemon`` for one workspace."""

    def __init__(
        self,
        home: Path,
        storage_url: str,
        port: int,
        env: dict[str, str],
        workspace: Path | None = None,
        log_dir: Path | None = None,
    ) -> None:
        self.home = Path(home)
        self.port = port
        self._storage_url = dagster_storage_url(storage_url)
        self._env = {**os.environ, **env, "DAGSTER_HOME": str(self.home)}
        self._workspace = workspace or REPOSITORY_ROOT / "workspace.yaml"
        executables = Path(sys.executable).parent  # the venv's bin: console scripts sit next to python
        logs = log_dir or self.home.parent / "logs"  # not under DAGSTER_HOME/logs: Dagster moves that folder away
        self.webserver = ChildProcess(
            "dagster-webserver",
            [str(executables / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(port), "-w", str(self._workspace)],
            logs / "dagster-webserver.log",
            self._env,
            self._workspace.parent,
        )
        self.daemon = ChildProcess(
            "dagster-daemon",
            [str(executables / "dagster-daemon"), "run", "-w", str(self._workspace)],
            logs / "dagster-daemon.log",
            self._env,
            self._workspace.parent,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _write_instance(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / "dagster.yaml").write_text(
            f"storage:\n  postgres:\n    postgres_url: {json.dumps(self._storage_url)}\ntelemetry:\n  enabled: false\n"
        )
        (self.home / ".nux").mkdir(exist_ok=True)
        (self.home / ".nux" / "nux.yaml").write_text("seen: 1\n")  # no first-visit modal

    @property
    def processes(self) -> tuple[ChildProcess, ChildProcess]:
        return self.webserver, self.daemon

    def start(self) -> None:
        self._write_instance()
        for process in self.processes:
            process.launch()

    def wait_ready(self, timeout_s: float = 180.0, while_waiting: Callable[[], None] | None = None) -> None:
        """Wait until the webserver answers and the code location has loaded (calling ``while_waiting``
        every half second meanwhile: the caller's supervision goes on)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if while_waiting is not None:
                while_waiting()
            for process in self.processes:
                if process.exit_code() is not None:
                    raise DagsterUIError(f"{process.name} exited with status {process.exit_code()}; see {process.log_file}")
            if self._location_loaded():
                return
            time.sleep(0.5)
        raise DagsterUIError(f"the Dagster UI did not load its workspace within {timeout_s:.0f}s; see {self.webserver.log_file}")

    def _location_loaded(self) -> bool:
        request = urllib.request.Request(
            f"{self.url}/graphql", data=_READY_QUERY.encode(), headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                body = json.loads(response.read())
        except (urllib.error.URLError, OSError, ValueError):
            return False
        entries = (body.get("data") or {}).get("workspaceOrError", {}).get("locationEntries") or []
        return bool(entries) and all(
            e["loadStatus"] == "LOADED" and (e["locationOrLoadError"] or {}).get("__typename") == "RepositoryLocation"
            for e in entries
        )

    def stop(self, timeout_s: float = 30.0) -> None:
        for process in self.processes:
            process.stop(timeout_s)
