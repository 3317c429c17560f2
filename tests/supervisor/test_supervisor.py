"""The supervisor with real child processes against the real broker."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from platform_streams.embedded.processes import free_port, pid_alive
from platform_streams.embedded.processes import pid_alive as alive
from platform_streams.supervisor.health import evaluate
from platform_streams.supervisor.probes import HttpProbe, ProbeLoop
from platform_streams.supervisor.process_supervisor import Supervisor
from platform_streams.supervisor.services import Service, ServiceSupervisor
from platform_streams.supervisor.spec import parse_spec
from platform_streams.supervisor.status import read_statuses
from platform_streams.supervisor.status_render import render
from tests.waiting import wait_until


@pytest.mark.e2e
def test_crashed_daemon_is_restarted_status_reported_and_all_stop_cleanly(kafka_bootstrap, topic_factory, tmp_path: Path) -> None:
    source, sink = topic_factory("sup-in"), topic_factory("sup-out")
    spec = parse_spec(
        {
            "name": "suptest",
            "daemons": [
                {"name": "trades", "kind": "synthetic-trades", "config": {"output": source, "rate": 500, "limit": 300}},
                {
                    "name": "copy",
                    "kind": "passthrough",
                    "replicas": 2,
                    "restart": "always",
                    "config": {"inputs": [source], "output": sink, "heartbeat_interval_s": 0.5, "group": f"g{time.time_ns()}"},
                },
            ],
        }
    )
    supervisor = Supervisor(spec, {"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap}, tmp_path)
    supervisor.start()
    try:
        trades, copy0, copy1 = supervisor.replicas
        # the limited source finishes cleanly and is not restarted (on-failure policy)
        wait_until(
            lambda: trades.state == "completed", 60, "the source to complete", between=supervisor.tick, describe=supervisor.status
        )
        assert trades.last_exit_code == 0 and trades.restarts == 0
        # heartbeats reach the status: lag and counters of the copies
        wait_until(
            lambda: sum(r.messages_in for r in supervisor.status().replicas if r.name == "copy") >= 300,
            60, "heartbeats with the copies' counters", between=supervisor.tick, describe=supervisor.status,
        )  # fmt: skip
        # kill -9 one copy: it is restarted after a backoff
        victim = copy0.process.pid
        os.kill(victim, signal.SIGKILL)
        wait_until(
            lambda: copy0.restarts == 1 and copy0.state == "running",
            30,
            "the restart",
            between=supervisor.tick,
            describe=supervisor.status,
        )
        assert copy0.last_exit_code == -signal.SIGKILL
        assert copy0.process.pid != victim
        wait_until(
            lambda: supervisor.status().replicas[1].lag is not None,
            60,
            "a heartbeat from the new process",
            between=supervisor.tick,
            describe=supervisor.status,
        )
        supervisor.write_status()
        statuses = read_statuses(tmp_path / "supervisor")
        assert [s.deployment for s in statuses] == ["suptest"]
        table = render(evaluate(statuses, time.time(), alive))
        assert "copy[0]" in table and "completed" in table
        pids = [r.process.pid for r in (copy0, copy1)]
    finally:
        supervisor.stop(grace_s=30)
    assert all(not pid_alive(pid) for pid in pids)
    # SIGTERM drains: clean exit status 0 from both copies
    assert copy0.process.returncode == 0 and copy1.process.returncode == 0
    assert all(r.state == "stopped" for r in supervisor.replicas)


def crash_looping_spec() -> dict:
    """A daemon whose environment holds a bad setting: every start exits with a configuration error."""
    return {
        "name": "crashtest",
        "daemons": [
            {
                "name": "copy", "kind": "passthrough", "restart": "always", "env": {"TRADEPLAT_BATCH_MAX": "many"},
                "config": {"inputs": ["a"], "output": "b"},
            }
        ],
    }  # fmt: skip


def test_a_crash_looping_daemon_fails_once_its_restart_budget_is_spent(kafka_bootstrap, tmp_path: Path) -> None:
    supervisor = Supervisor(
        parse_spec(crash_looping_spec()), {"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap}, tmp_path, restart_budget=(2, 600)
    )
    supervisor.start()
    try:
        (copy,) = supervisor.replicas
        wait_until(
            lambda: copy.state == "failed", 60, "the supervisor to give up", between=supervisor.tick, describe=supervisor.status
        )
        assert copy.restarts == 2 and copy.last_exit_code == 2
        assert "more than 2 restarts within 600s" in copy.failed_reason and "batch_max" in copy.failed_reason
        (daemon,) = evaluate([supervisor.status()], time.time(), alive).deployments[0].daemons
        assert daemon.state == "failed" and "batch_max" in daemon.problem
    finally:
        supervisor.stop()


def test_crashes_while_a_critical_server_is_down_are_not_charged_to_the_budget(kafka_bootstrap, tmp_path: Path) -> None:
    """A daemon that cannot start because the broker or the database is away is not broken."""
    unreachable = Service(
        "kafka", "external Kafka", "nowhere", ProbeLoop("kafka", HttpProbe(f"http://127.0.0.1:{free_port()}/"), 0.1)
    )
    services = ServiceSupervisor([unreachable])
    supervisor = Supervisor(
        parse_spec(crash_looping_spec()),
        {"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap},
        tmp_path,
        services,
        restart_budget=(1, 600),
    )
    supervisor.start()
    try:
        (copy,) = supervisor.replicas
        wait_until(lambda: unreachable.down, 30, "the probe to fail", between=supervisor.tick, describe=supervisor.status)
        wait_until(lambda: copy.restarts >= 3, 60, "three restarts", between=supervisor.tick, describe=supervisor.status)
        assert copy.state != "failed" and copy.budget.spent == 0
    finally:
        supervisor.stop()
        services.close()
