"""Child-process plumbing shared by the embedded servers and the supervisor."""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import time
from pathlib import Path

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """``preexec_fn``: the child gets SIGTERM if the process that started it dies (even by SIGKILL)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
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
