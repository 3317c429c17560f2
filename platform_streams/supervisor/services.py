"""Supervision of the servers the daemons depend on: the embedded broker and database (and the
Dagster UI), restarted on the same address with the same data when they crash.

Each service pairs a process (an embedded server; none for an external one, which is only
probed) with a probe run on its own thread. :meth:`ServiceSupervisor.tick`, called every few
hundred ms from the thread that started the servers (their parent-death signal is tied to it),
notices an exit at once, restarts after a backoff (never sooner than ``restart_delay_s``) and
gives up when the restart budget is spent. A critical service that gives up (broker, database)
is the caller's reason to stop everything; the Dagster UI is not critical.

States: ``starting`` (launched, not answering yet) → ``running`` → ``restarting`` (exited,
restart scheduled) → ``starting`` …, or ``failed`` (budget spent); ``external`` for a server we
only probe; ``stopped`` after :meth:`ServiceSupervisor.close`.
"""

from __future__ import annotations

import logging
import subprocess
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from platform_streams.embedded.processes import ServerStartError, describe_exit
from platform_streams.supervisor.backoff import RestartBackoff, RestartBudget
from platform_streams.supervisor.probes import ProbeLoop
from platform_streams.supervisor.status import ServerStatus

log = logging.getLogger(__name__)


SERVER_RESTART_WINDOW_S = 600.0
DEFAULT_SERVER_RESTARTS = 5  # within SERVER_RESTART_WINDOW_S: a server crashing more often is broken


class ServerProcess(Protocol):
    """What the supervisor needs of an embedded server (``EmbeddedKafka``, ``EmbeddedPostgres``, …)."""

    @property
    def pid(self) -> int | None: ...

    def launch(self) -> None:
        """Start the process without waiting for it to answer."""

    def exit_code(self) -> int | None:
        """Its exit status once it has exited, else None."""

    def last_log_line(self) -> str: ...

    def kill(self) -> None: ...


class Service:
    """One supervised (or, without a process, only probed) server and its restart bookkeeping."""

    def __init__(
        self,
        name: str,
        description: str,
        address: str,
        probe: ProbeLoop | None,
        process: ServerProcess | None = None,
        critical: bool = True,
        budget: RestartBudget | None = None,
        backoff: RestartBackoff | None = None,
    ) -> None:
        self.name = name
        self.description = description
        self.address = address
        self.probe = probe
        self.process = process
        self.critical = critical
        self.budget = budget or RestartBudget(DEFAULT_SERVER_RESTARTS, SERVER_RESTART_WINDOW_S)
        self.backoff = backoff or RestartBackoff(initial_s=1.0, max_s=30.0, stable_s=60.0)
        self.state = "running" if process is not None else "external"
        self.restarts = 0
        self.last_exit_code: int | None = None
        self.last_error = ""
        self.started_at = time.time()
        self.down_since: float | None = None
        self.next_start = 0.0

    @property
    def embedded(self) -> bool:
        return self.process is not None

    @property
    def down(self) -> bool:
        """Not serving: an embedded one not running, an external one whose probe fails."""
        if self.process is not None:
            return self.state != "running"
        return self.probe is not None and self.probe.result.ok is False

    def status(self) -> ServerStatus:
        result = self.probe.result if self.probe is not None else None
        pid = self.process.pid if self.process is not None else None
        return ServerStatus(
            name=self.name,
            description=self.description,
            address=self.address,
            embedded=self.embedded,
            critical=self.critical,
            state=self.state,
            pid=pid or 0,
            restarts=self.restarts,
            last_exit_code=self.last_exit_code,
            last_error=self.last_error,
            started_at=self.started_at,
            down_since=self.down_since,
            next_start=self.next_start if self.state == "restarting" else None,
            probe_ok=result.ok if result is not None else None,
            probe_checked_at=result.checked_at if result is not None else 0.0,
            probe_failing_since=result.failing_since if result is not None else None,
            probe_error=result.error if result is not None else "",
        )


class ServiceSupervisor:
    """Watches, restarts and reports the platform's servers."""

    def __init__(
        self,
        services: Sequence[Service] = (),
        restart_delay_s: float = 0.0,
        start_timeout_s: float = 180.0,
        announce: Callable[[str], None] | None = None,
    ) -> None:
        self.services: list[Service] = []
        self.restart_delay_s = restart_delay_s  # a floor under the backoff: fault drills hold a server down this long
        self.start_timeout_s = start_timeout_s
        self._announce = announce or (lambda _text: None)  # `tradeplat up` tells its terminal
        for service in services:
            self.add(service)

    def add(self, service: Service) -> Service:
        """Supervise ``service`` (already running if it has a process) and start probing it."""
        self.services.append(service)
        if service.probe is not None:
            service.probe.start()
        return service

    def get(self, name: str) -> Service:
        return next(s for s in self.services if s.name == name)

    # -- the loop --------------------------------------------------------------------------------
    def tick(self, now: float | None = None) -> list[Service]:
        """Notice exits, readiness and due restarts; returns the services that became ready again."""
        now = time.time() if now is None else now
        recovered = []
        for service in self.services:
            process = service.process
            if process is None or service.state in ("failed", "stopped"):
                continue
            if service.state in ("starting", "running"):
                code = process.exit_code()
                if code is not None:
                    self._on_down(service, now, code, describe_exit(code, process.last_log_line()))
                elif service.state == "starting" and self._ready(service):
                    self._on_ready(service, now)
                    recovered.append(service)
                elif service.state == "starting" and now - service.started_at > self.start_timeout_s:
                    process.kill()
                    self._on_down(service, now, process.exit_code(), f"not ready within {self.start_timeout_s:.0f}s")
            if service.state == "restarting" and now >= service.next_start:
                self._launch(service, now)
        return recovered

    def _ready(self, service: Service) -> bool:
        return service.probe is None or service.probe.ok_since(service.started_at)

    def _launch(self, service: Service, now: float) -> None:
        assert service.process is not None
        service.restarts += 1
        service.started_at = now
        try:
            service.process.launch()
        except (ServerStartError, OSError, subprocess.SubprocessError) as exc:
            self._on_down(service, now, None, f"restart failed: {exc}")
            return
        service.state = "starting"
        log.info("server restarting", extra={"server": service.name, "attempt": service.restarts, "pid": service.process.pid})

    def _on_ready(self, service: Service, now: float) -> None:
        down_for = now - service.down_since if service.down_since is not None else 0.0
        service.state = "running"
        service.down_since = None
        log.info("server is back", extra={"server": service.name, "down_for_s": round(down_for, 1), "restarts": service.restarts})
        self._announce(
            f"{service.name} is back (pid {service.process.pid if service.process else '-'}) after {down_for:.1f}s down"
        )

    def _on_down(self, service: Service, now: float, code: int | None, reason: str) -> None:
        service.last_exit_code = code
        service.last_error = reason[:500]
        if service.down_since is None:
            service.down_since = now
        if not service.budget.spend(now):
            service.state = "failed"
            log.error(
                "server keeps crashing; giving up",
                extra={"server": service.name, "budget": service.budget.describe(), "last_error": service.last_error},
            )
            self._announce(f"{service.name} went down again ({reason}); its restart budget is spent")
            return
        delay = max(service.backoff.next_delay(now - service.started_at), self.restart_delay_s)
        service.state = "restarting"
        service.next_start = now + delay
        log.error(
            "server went down; restarting",
            extra={"server": service.name, "exit_code": code, "reason": service.last_error, "restart_in_s": round(delay, 1)},
        )
        self._announce(f"{service.name} went down ({reason}); restarting in {delay:.1f}s")

    # -- what the caller asks ----------------------------------------------------------------------
    def critical_down(self) -> bool:
        """Whether a critical server is not running (crashes of the daemons then are not their fault)."""
        return any(s.critical and s.down for s in self.services)

    def failure(self) -> str | None:
        """Why everything must stop, if a critical server's restart budget is spent."""
        for service in self.services:
            if service.critical and service.state == "failed":
                return (
                    f"the {service.description} ({service.name}) went down more than its budget of "
                    f"{service.budget.describe()} allows; last: {service.last_error}"
                )
        return None

    def statuses(self) -> list[ServerStatus]:
        return [service.status() for service in self.services]

    def close(self) -> None:
        """Stop probing (the processes are stopped by whoever started them)."""
        for service in self.services:
            if service.probe is not None:
                service.probe.stop()
            if service.process is not None:
                service.state = "stopped"
