"""The ServiceSupervisor with a real server process (Python's HTTP server on a port of its own) and a
real probe: a crash seen at the next tick, the restart held, then made on the same port; the restart
budget; a server that never answers; an external server that is only probed."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

from platform_streams.embedded.processes import ChildProcess, free_port, pid_alive
from platform_streams.supervisor.backoff import RestartBackoff, RestartBudget
from platform_streams.supervisor.probes import HttpProbe, ProbeLoop
from platform_streams.supervisor.services import Service, ServiceSupervisor
from tests.waiting import wait_until


def web_server(tmp_path: Path, port: int, critical: bool = True, budget: RestartBudget | None = None) -> Service:
    process = ChildProcess(
        "web", [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"], tmp_path / "web.log", os.environ, tmp_path
    )
    process.launch()
    probe = ProbeLoop("web", HttpProbe(f"http://127.0.0.1:{port}/"), interval_s=0.2, timeout_s=2.0)
    backoff = RestartBackoff(initial_s=0.2, max_s=1.0)
    return Service(
        "web", "test web server", f"127.0.0.1:{port}", probe, process, critical=critical, budget=budget, backoff=backoff
    )


def kill_9(service: Service) -> int:
    assert service.process is not None
    pid = service.process.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not pid_alive(pid), 10, "the kill")
    return pid


def test_a_crashed_server_is_seen_at_the_next_tick_held_then_restarted_on_its_port(tmp_path: Path) -> None:
    port = free_port()
    service = web_server(tmp_path, port)
    services = ServiceSupervisor([service], restart_delay_s=5.0)
    try:
        wait_until(lambda: bool(service.probe and service.probe.result.ok), 30, "the server to answer")
        services.tick()
        assert service.state == "running" and not services.critical_down()
        killed = kill_9(service)
        now = time.time()
        services.tick(now)  # the first tick after the crash
        assert (service.state, service.last_exit_code, service.last_error) == ("restarting", -9, "killed by SIGKILL")
        assert service.down_since == now and services.critical_down() and services.failure() is None
        services.tick(now + 4.9)  # the hold (5 s) outlasts the backoff (0.2 s)
        assert service.state == "restarting" and service.restarts == 0
        services.tick(now + 5.0)
        assert service.state == "starting" and service.restarts == 1
        status = service.status()
        assert status.state == "starting" and status.down_since == now
        wait_until(lambda: service.state == "running", 30, "the server to answer again", between=services.tick)
        assert service.process is not None and service.process.pid not in (None, killed)
        assert service.down_since is None and service.status().probe_ok
        assert service.address == f"127.0.0.1:{port}"  # the same port: clients reconnect to what they knew
    finally:
        services.close()
        assert service.process is not None
        service.process.stop()  # type: ignore[attr-defined]


def test_the_restart_budget_spent_means_failed_and_a_critical_failure_stops_everything(tmp_path: Path) -> None:
    critical = web_server(tmp_path / "a", free_port(), budget=RestartBudget(1, 600))
    optional = web_server(tmp_path / "b", free_port(), critical=False, budget=RestartBudget(0, 600))
    services = ServiceSupervisor([critical, optional])
    try:
        kill_9(optional)
        services.tick()
        assert optional.state == "failed" and services.failure() is None  # the Dagster UI may go; trading goes on
        # up (its probe answered) before the crash: on a loaded machine the first tick may come before that
        wait_until(lambda: critical.state == "running", 30, "the server up", between=services.tick)
        kill_9(critical)
        wait_until(lambda: critical.state != "running", 10, "the crash noticed", between=services.tick)
        assert critical.state == "restarting"
        wait_until(lambda: critical.state == "running", 30, "the first restart", between=services.tick)
        kill_9(critical)
        services.tick()
        assert critical.state == "failed" and critical.restarts == 1
        failure = services.failure()
        assert failure is not None and "1 restarts within 600s" in failure and "killed by SIGKILL" in failure
    finally:
        services.close()
        for service in (critical, optional):
            service.process.stop()  # type: ignore[union-attr]


def test_a_restarted_server_that_never_answers_is_killed_and_counted(tmp_path: Path) -> None:
    service = web_server(tmp_path, free_port())
    services = ServiceSupervisor([service], start_timeout_s=3.0)
    assert service.process is not None
    silent_port = free_port()  # the restart listens elsewhere than the probe asks
    try:
        wait_until(lambda: bool(service.probe and service.probe.result.ok), 30, "the server to answer")
        service.process.command[3] = str(silent_port)  # type: ignore[attr-defined]
        kill_9(service)
        wait_until(lambda: service.state == "starting", 30, "the restart", between=services.tick)
        started = service.started_at
        services.tick(started + 3.1)
        assert service.state == "restarting" and service.last_error == "not ready within 3s"
        assert service.process.exit_code() == -9  # the unanswering process was killed, not left behind
    finally:
        services.close()
        service.process.stop()  # type: ignore[attr-defined]


def test_an_external_server_is_only_probed(tmp_path: Path) -> None:
    port = free_port()
    process = ChildProcess(
        "web", [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"], tmp_path / "w.log", os.environ
    )
    process.launch()
    external = Service(
        "web", "external web server", f"127.0.0.1:{port}", ProbeLoop("web", HttpProbe(f"http://127.0.0.1:{port}/"), 0.2)
    )
    services = ServiceSupervisor([external])
    try:
        wait_until(lambda: external.status().probe_ok is True, 30, "a successful probe")
        process.stop()
        wait_until(lambda: external.status().probe_ok is False, 30, "a failed probe", between=services.tick)
        status = external.status()
        assert (status.state, status.embedded, status.restarts) == ("external", False, 0)
        assert status.probe_failing_since is not None and "Connection refused" in status.probe_error
        # nothing of ours to restart, but it is down: daemons crashing meanwhile are not charged for it
        assert services.critical_down() and services.failure() is None
        services.tick()
        assert external.restarts == 0 and external.state == "external"
    finally:
        services.close()
        process.stop()
