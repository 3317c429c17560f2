"""What the machine and the broker did during one measured window, for attributing a hop's tail.

A latency tail has a cause somewhere on the machine; these readings name it per run instead of
guessing: the broker's stop-the-world pauses (from its unified JVM log, ``gc.log``, which the
embedded broker always writes), the CPU its JIT compiler threads, GC threads and request threads
took, how busy the machine was and how much the hypervisor stole, and how much dirty page cache
was waiting for (or under) writeback. Only ``/proc`` and the broker's own log are read.
"""

from __future__ import annotations

import collections
import datetime
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

_SAFEPOINT = re.compile(r'^\[([^\]]+)\].*Safepoint "(\w+)".*Total: (\d+) ns')
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_THREAD_GROUPS = (
    ("jit", ("C1 CompilerThre", "C2 CompilerThre", "Sweeper thread")),
    ("gc", ("GC Thread", "G1 ", "VM Thread", "ZWorker", "ZDirector", "ZDriver", "Shenandoah", "Conc#")),
    ("requests", ("data-plane-kafk",)),
)


def _thread_group(name: str) -> str:
    for group, prefixes in _THREAD_GROUPS:
        if name.startswith(prefixes):
            return group
    return "other"


def _thread_cpu_ticks(pid: int) -> dict[str, int]:
    """CPU ticks (user + system) of each thread group of ``pid`` so far."""
    totals: collections.Counter[str] = collections.Counter()
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return {}
    for tid in tasks:
        try:
            name = Path(f"/proc/{pid}/task/{tid}/comm").read_text().strip()
            fields = Path(f"/proc/{pid}/task/{tid}/stat").read_text().rsplit(") ", 1)[1].split()
        except (OSError, IndexError):
            continue  # the thread ended between listing and reading
        totals[_thread_group(name)] += int(fields[11]) + int(fields[12])
    return dict(totals)


def _machine_ticks() -> list[int]:
    """``/proc/stat``'s first line: user nice system idle iowait irq softirq steal."""
    return [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]


def _dirty_kib() -> tuple[int, int]:
    values = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("Dirty", "Writeback"):
            values[key] = int(rest.split()[0])
    return values.get("Dirty", 0), values.get("Writeback", 0)


@dataclass
class Pause:
    """One stop-the-world safepoint of the broker's JVM."""

    start_s: float  # wall clock, seconds
    seconds: float
    operation: str  # e.g. G1CollectForAllocation, ZMarkStart, Cleanup


def broker_pauses(gc_log: Path, since_s: float, until_s: float, min_seconds: float = 0.0005) -> list[Pause]:
    """Safepoints of at least ``min_seconds`` that began in [since_s, until_s], from ``gc.log`` and its rotations."""
    pauses = []
    for path in sorted(gc_log.parent.glob(gc_log.name + "*")):
        try:
            lines = path.read_text(errors="replace").splitlines()
        except OSError:
            continue
        for line in lines:
            match = _SAFEPOINT.match(line)
            if match is None:
                continue
            end = datetime.datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
            seconds = int(match.group(3)) / 1e9
            if seconds >= min_seconds and since_s <= end - seconds <= until_s:
                pauses.append(Pause(end - seconds, seconds, match.group(2)))
    return sorted(pauses, key=lambda pause: pause.start_s)


@dataclass
class WindowReading:
    """The machine and the broker over one window."""

    seconds: float
    machine_busy: float  # fraction of all cores
    steal: float  # fraction of all cores' time the hypervisor took
    broker_cpu: dict[str, float]  # thread group → cores used
    max_dirty_mib: float
    max_writeback_mib: float
    pauses: list[Pause] = field(default_factory=list)

    def describe(self) -> str:
        cpu = " ".join(f"{group} {cores * 100:.0f}%" for group, cores in sorted(self.broker_cpu.items()) if cores >= 0.005)
        longest = max((p.seconds for p in self.pauses), default=0.0)
        return (
            f"machine busy {self.machine_busy * 100:.0f}% steal {self.steal * 100:.1f}% | broker cpu {cpu or '-'} | "
            f"pauses {len(self.pauses)} ({sum(p.seconds for p in self.pauses) * 1e3:.0f} ms, longest {longest * 1e3:.1f} ms) | "
            f"dirty max {self.max_dirty_mib:.0f} MiB, writeback max {self.max_writeback_mib:.1f} MiB"
        )


class WindowProbe:
    """Start at the beginning of a window, :meth:`sample` now and then, :meth:`finish` at its end."""

    def __init__(self, broker_pid: int | None, gc_log: Path | None) -> None:
        self._pid = broker_pid
        self._gc_log = gc_log
        self._started = time.time()
        self._machine = _machine_ticks()
        self._threads = _thread_cpu_ticks(broker_pid) if broker_pid else {}
        self._max_dirty = self._max_writeback = 0

    def sample(self) -> None:
        dirty, writeback = _dirty_kib()
        self._max_dirty = max(self._max_dirty, dirty)
        self._max_writeback = max(self._max_writeback, writeback)

    def finish(self) -> WindowReading:
        self.sample()
        ended = time.time()
        seconds = ended - self._started
        machine = _machine_ticks()
        delta = [b - a for a, b in zip(self._machine, machine, strict=True)]
        total = sum(delta) or 1
        idle = delta[3] + delta[4]
        threads = _thread_cpu_ticks(self._pid) if self._pid else {}
        broker_cpu = {group: (threads.get(group, 0) - self._threads.get(group, 0)) / _CLOCK_TICKS / seconds for group in threads}
        pauses = broker_pauses(self._gc_log, self._started, ended) if self._gc_log else []
        return WindowReading(
            seconds,
            (total - idle) / total,
            delta[7] / total,
            broker_cpu,
            self._max_dirty / 1024,
            self._max_writeback / 1024,
            pauses,
        )
