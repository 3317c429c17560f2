"""PostgreSQL from the ``pgserver`` wheel: a real server on a unix socket, data in the state folder."""

from __future__ import annotations

import logging
import time
import warnings
from pathlib import Path

from platform_streams.embedded.processes import pid_alive, terminate_pid

log = logging.getLogger(__name__)


class DatabaseError(RuntimeError):
    """The embedded database could not be started."""


class EmbeddedPostgres:
    """A pgserver-managed PostgreSQL whose data lives in ``data_dir`` and survives restarts."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.url = ""
        self._server: object | None = None

    @property
    def pid(self) -> int | None:
        pid_file = self.data_dir / "postmaster.pid"
        try:
            pid = int(pid_file.read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None
        return pid if pid_alive(pid) else None

    def start(self) -> str:
        """Start (or attach to) the server; returns its ``postgresql://`` URL."""
        with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset; /tmp is fine
            warnings.simplefilter("ignore")
            import pgserver  # imported here: the wheel is only needed when the embedded database is used

        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        try:
            server = pgserver.get_server(str(self.data_dir), cleanup_mode=None)
        except Exception as exc:  # pgserver raises plain Exceptions with initdb/pg_ctl output
            raise DatabaseError(f"embedded PostgreSQL failed to start in {self.data_dir}: {exc}") from exc
        self._server = server
        self.url = server.get_uri()
        log.info("embedded postgres ready", extra={"url": self.url, "seconds": round(time.monotonic() - started, 2)})
        return self.url

    def stop(self, timeout_s: float = 30.0) -> None:
        """Fast shutdown of the postmaster (SIGINT), SIGKILL after ``timeout_s``."""
        import signal

        if self._server is not None:
            self._server.cleanup()  # forget pgserver's per-process handle so a later start really starts
            self._server = None
        pid = self.pid
        if pid is not None:
            terminate_pid(pid, timeout_s, sig=signal.SIGINT)
