"""Child-process plumbing shared by the embedded servers and the supervisor."""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

_PR_SET_PDEATHSIG = 1


class ServerStartError(RuntimeError):
    """An embedded server (broker, database, Dagster) could not be started."""


def die_with_parent(sig: int = signal.SIGTERM) -> None:
    """``preexec_fn``: the child gets ``sig`` if the thread that started it dies (even by SIGKILL).

    Linux ties this to the creating *thread*, not the process: start long-lived children from a
    thread that lives as long as they should (the main thread of ``tradeplat up`` does)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, sig)
    except OSError:  # not Linux: children outlive a killed parent; `tradeplat down` cleans up
        return


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago (the caller binds it right away)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is dead for our purposes
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return True


def terminate_pid(pid: int, timeout_s: float, sig: int = signal.SIGTERM) -> bool:
    """Send ``sig``, wait up to ``timeout_s``, then SIGKILL. Returns True if it exited in time."""
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return True
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return True
    return False


def rss_bytes(pid: int) -> int:
    """Resident memory of ``pid`` from /proc (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return 0
    return 0


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def terminate_group(leader_pid: int, timeout_s: float) -> None:
    """SIGTERM a process group (a child started with ``start_new_session``), SIGKILL what remains."""
    try:
        os.killpg(leader_pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.killpg(leader_pid, 0)
        except ProcessLookupError:
            return
        if not pid_alive(leader_pid) and not _group_members(leader_pid):
            return
        time.sleep(0.1)
    try:
        os.killpg(leader_pid, signal.SIGKILL)
    except ProcessLookupError:
        return


def _group_members(group_id: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(") ", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[2]) == group_id and fields[0] != "Z":
                members.append(int(entry.name))
    return members


def describe_exit(code: int | None, last_output: str = "") -> str:
    """Why a child ended, for people: the signal that killed it, or its exit status and what it said last
    (a signal death says nothing of its own, so its last output would only mislead)."""
    if code is None:
        return last_output or "did not exit"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with status {code}" + (f": {last_output}" if last_output else "")


def tail_lines(path: Path, lines: int = 30) -> str:
    """The last ``lines`` of a (log) file, reading only its end."""
    try:
        with open(path, "rb") as stream:
            stream.seek(0, os.SEEK_END)
            stream.seek(max(stream.tell() - 16_384, 0))
            return "\n".join(stream.read().decode(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def last_line(path: Path, width: int = 500) -> str:
    """The last non-empty line of a log file (what a crashed child said last), at most ``width`` characters."""
    lines = tail_lines(path, 20).splitlines()
    return next((line.strip()[:width] for line in reversed(lines) if line.strip()), "")


class ChildProcess:
    """A long-running command as a restartable child: its own session (stopped as a group), dying
    with its parent, its output appended to ``log_file``. What a supervisor needs to restart it."""

    def __init__(
        self, name: str, command: Sequence[str], log_file: Path, env: Mapping[str, str], cwd: Path | None = None
    ) -> None:
        self.name = name
        self.command = list(command)
        self.log_file = log_file
        self._env = dict(env)
        self._cwd = cwd
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None and self._process.poll() is None else None

    def launch(self) -> None:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "ab") as stream:
            self._process = subprocess.Popen(
                self.command,
                env=self._env,
                cwd=str(self._cwd) if self._cwd is not None else None,
                stdout=stream,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=die_with_parent,
            )

    def exit_code(self) -> int | None:
        return self._process.poll() if self._process is not None else None

    def last_log_line(self) -> str:
        return last_line(self.log_file)

    def kill(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()

    def stop(self, timeout_s: float = 30.0) -> None:
        """SIGTERM its whole process group, SIGKILL what remains after ``timeout_s``."""
        if self._process is not None:
            terminate_group(self._process.pid, timeout_s)
            self._process.wait()
            self._process = None
