"""PostgreSQL from the ``pgserver`` wheel: a real server on a unix socket, data in the state folder.

The wheel provides the binaries and ``initdb``; the postmaster itself runs as our direct child
(not daemonised by ``pg_ctl``), so its exit is seen at once, it dies with its parent, and a
supervisor can restart it on the same socket with the same cluster. After a ``kill -9`` the
data folder holds a stale ``postmaster.pid`` and maybe backends still attached to the old
shared memory; :meth:`EmbeddedPostgres.launch` clears both before starting, and PostgreSQL's
own crash recovery replays the WAL.
"""

from __future__ import annotations

import functools
import logging
import os
import signal
import subprocess
import time
import warnings
from pathlib import Path
from types import ModuleType
from typing import NamedTuple

from platform_streams.embedded.processes import (
    ServerStartError,
    cmdline,
    die_with_parent,
    last_line,
    pid_alive,
    tail_lines,
    terminate_pid,
)

log = logging.getLogger(__name__)

SYSTEM_USER_WHEN_ROOT = "pgserver"  # PostgreSQL refuses to run as root; pgserver's convention for the user
_SUPERUSER = "postgres"


class DatabaseError(ServerStartError):
    """The embedded database could not be started."""


class _Pgserver(NamedTuple):
    """What the pgserver wheel gives: its command wrappers (``initdb``, the binaries' folder), its
    helpers (socket folder, the unprivileged user when root) and its runtime folder."""

    commands: ModuleType
    utils: ModuleType
    runtime_path: Path


def _pgserver() -> _Pgserver:
    """pgserver, imported on first use (only the embedded database needs it)."""
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset; /tmp is fine
        warnings.simplefilter("ignore")
        from pgserver import _commands, utils
        from pgserver.postgres_server import PostgresServer
    return _Pgserver(_commands, utils, PostgresServer.runtime_path)


class EmbeddedPostgres:
    """A PostgreSQL postmaster, child of this process, whose data lives in ``data_dir`` and survives restarts."""

    name = "postgres"
    description = "embedded PostgreSQL"

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.url = ""
        self._process: subprocess.Popen[bytes] | None = None
        self._socket_dir: Path | None = None

    # -- what the supervisor reads -----------------------------------------------------------
    @property
    def pid(self) -> int | None:
        """The running postmaster's pid: our child's, or one left by another process (``postmaster.pid``)."""
        if self._process is not None:
            return self._process.pid if self._process.poll() is None else None
        pid = self._lock_file_pid()
        return pid if pid is not None and pid in _postgres_processes(self.data_dir) else None

    @property
    def address(self) -> str:
        return self.url

    @property
    def log_file(self) -> Path:
        return self.data_dir / "log"

    def exit_code(self) -> int | None:
        """The postmaster's exit status once it has exited; None while it runs (or before a launch)."""
        return self._process.poll() if self._process is not None else None

    def last_log_line(self) -> str:
        return last_line(self.log_file)

    # -- life cycle ----------------------------------------------------------------------------
    def start(self, timeout_s: float = 60.0) -> str:
        """Start the server and wait until it accepts connections; returns its ``postgresql://`` URL."""
        started = time.monotonic()
        self.launch()
        deadline = started + timeout_s
        while not self.accepting_connections():
            code = self.exit_code()
            if code is not None:
                raise DatabaseError(f"PostgreSQL exited with status {code} during start-up:\n{tail_lines(self.log_file)}")
            if time.monotonic() > deadline:
                self.stop()
                raise DatabaseError(
                    f"PostgreSQL did not accept connections within {timeout_s:.0f}s:\n{tail_lines(self.log_file)}"
                )
            time.sleep(0.1)
        log.info("embedded postgres ready", extra={"url": self.url, "seconds": round(time.monotonic() - started, 2)})
        return self.url

    def launch(self) -> None:
        """Start the postmaster without waiting for it (initialising the cluster the first time)."""
        pgserver = _pgserver()
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(exist_ok=True)
        user = SYSTEM_USER_WHEN_ROOT if os.geteuid() == 0 else None
        try:
            self._initialise_once(pgserver, user)
            self._socket_dir = pgserver.utils.find_suitable_socket_dir(self.data_dir, pgserver.runtime_path)
            self._clear_leftovers(self._socket_dir)
        except Exception as exc:  # pgserver raises plain Exceptions with initdb's output
            raise DatabaseError(f"embedded PostgreSQL cannot start in {self.data_dir}: {exc}") from exc
        self.url = f"postgresql://{_SUPERUSER}:@/{_SUPERUSER}?host={self._socket_dir}"
        command = [
            str(pgserver.commands.POSTGRES_BIN_PATH / "postgres"),
            "-D",
            str(self.data_dir),
            "-h",
            "",
            "-k",
            str(self._socket_dir),
        ]
        with open(self.log_file, "ab") as log_stream:
            self._process = subprocess.Popen(
                command,
                stdout=log_stream,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                user=user,
                start_new_session=True,
                # fast shutdown (SIGINT) if we die: SIGTERM would be a "smart" one, waiting for every client
                preexec_fn=functools.partial(die_with_parent, signal.SIGINT),
            )

    def accepting_connections(self) -> bool:
        """Whether our postmaster says it is ready (``postmaster.pid`` status) and its socket exists."""
        if self._process is None or self._process.poll() is not None or self._socket_dir is None:
            return False
        try:
            lines = (self.data_dir / "postmaster.pid").read_text().splitlines()
        except OSError:
            return False
        ready = len(lines) >= 8 and lines[0].strip() == str(self._process.pid) and lines[7].strip() == "ready"
        return ready and (self._socket_dir / f".s.PGSQL.{lines[3].strip()}").exists()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Fast shutdown of the postmaster (SIGINT), SIGKILL after ``timeout_s``."""
        if self._process is not None:
            if self._process.poll() is None:
                terminate_pid(self._process.pid, timeout_s, sig=signal.SIGINT)
            self._process.wait()
            self._process = None
            return
        pid = self.pid  # a server some other process started on this folder (`tradeplat down` cleans those)
        if pid is not None:
            terminate_pid(pid, timeout_s, sig=signal.SIGINT)

    def kill(self) -> None:
        """SIGKILL the postmaster, as a crash would (for fault tests)."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()

    # -- set-up ----------------------------------------------------------------------------------
    def _initialise_once(self, pgserver: _Pgserver, user: str | None) -> None:
        if (self.data_dir / "PG_VERSION").exists():
            return
        if user is not None:  # as root: the cluster belongs to the unprivileged user the server runs as
            import pwd

            pgserver.utils.ensure_user_exists(user)
            pgserver.utils.ensure_prefix_permissions(self.data_dir)
            entry = pwd.getpwnam(user)
            os.chown(self.data_dir, entry.pw_uid, entry.pw_gid)
        pgserver.commands.initdb(
            ["--auth=trust", "--auth-local=trust", "--encoding=utf8", "-U", _SUPERUSER], pgdata=self.data_dir, user=user
        )

    def _lock_file_pid(self) -> int | None:
        try:
            return int((self.data_dir / "postmaster.pid").read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None

    def _clear_leftovers(self, socket_dir: Path) -> None:
        """Stop a postmaster another process left running on this folder; after a crash, end the old
        server's processes still attached to its shared memory, and remove its stale lock files: their
        pid may belong to an unrelated process by now (pids wrap around on a busy machine), and
        PostgreSQL would then refuse to start, taking it for another server."""
        leftover = self._lock_file_pid()
        if leftover in _postgres_processes(self.data_dir):
            log.warning("stopping a postgres left running on this data folder", extra={"pid": leftover})
            terminate_pid(leftover, 30, sig=signal.SIGINT)
        for orphan in _postgres_processes(self.data_dir):
            log.warning("ending a process of a crashed postgres", extra={"pid": orphan, "command": cmdline(orphan)[:80]})
            terminate_pid(orphan, 5, sig=signal.SIGKILL)
        # no server of this folder runs now: every lock file left is stale
        for stale in [self.data_dir / "postmaster.pid", *socket_dir.glob(".s.PGSQL.*.lock")]:
            stale.unlink(missing_ok=True)


def _postgres_processes(data_dir: Path) -> list[int]:
    """Live PostgreSQL processes of the cluster in ``data_dir``: the postmaster and its backends run
    the wheel's ``postgres`` binary with their working directory in the data folder."""
    binary = (_pgserver().commands.POSTGRES_BIN_PATH / "postgres").resolve()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if Path(os.readlink(entry / "cwd")) == data_dir and Path(os.readlink(entry / "exe")) == binary:
                found.append(int(entry.name))
        except OSError:
            continue
    return [pid for pid in found if pid_alive(pid)]
