"""The health evaluator, a pure function of the status files, the time and which supervisors live."""

from __future__ import annotations

import json
from typing import Any

import msgspec

from platform_streams.supervisor.health import (
    EXIT_HEALTHY,
    EXIT_NOT_RUNNING,
    EXIT_UNHEALTHY,
    STATUS_SCHEMA,
    HealthPolicy,
    daemon_health,
    evaluate,
    lag_growing,
    server_health,
    stream_deployment_health,
)
from platform_streams.supervisor.status import DeploymentStatus, ReplicaStatus, ServerStatus, StreamDeploymentStatus
from platform_streams.supervisor.status_render import as_json, render

NOW = 1_000_000.0
SUPERVISOR = 4242


def replica(**changes: Any) -> ReplicaStatus:
    """A consuming daemon, running since a minute, whose last heartbeat (every 5 s) is 1 s old."""
    fields: dict[str, Any] = {
        "name": "normaliser", "replica": 0, "kind": "normaliser", "instance": "normaliser-0", "state": "running",
        "pid": 100, "restarts": 0, "last_exit_code": None, "started_at": NOW - 60, "metrics_port": 9100,
        "log_file": "/state/logs/normaliser-0.log", "heartbeat_at": NOW - 1, "heartbeat_pid": 100,
        "heartbeat_interval_s": 5.0, "heartbeat_state": "running", "lag": 12,
    }  # fmt: skip
    fields.update(changes)
    return ReplicaStatus(**fields)


def server(**changes: Any) -> ServerStatus:
    fields: dict[str, Any] = {
        "name": "kafka", "description": "embedded Apache Kafka", "address": "127.0.0.1:9092", "embedded": True,
        "critical": True, "state": "running", "pid": 200, "started_at": NOW - 100, "probe_ok": True,
        "probe_checked_at": NOW - 0.3,
    }  # fmt: skip
    fields.update(changes)
    return ServerStatus(**fields)


def deployment(replicas: list[ReplicaStatus], servers: list[ServerStatus] | None = None, **changes: Any) -> DeploymentStatus:
    fields: dict[str, Any] = {
        "deployment": "market-data", "supervisor_pid": SUPERVISOR, "updated_at": NOW - 0.2, "replicas": replicas,
        "servers": [server(), server(name="postgres", description="embedded PostgreSQL", pid=201)] if servers is None else servers,
    }  # fmt: skip
    fields.update(changes)
    return DeploymentStatus(**fields)


def alive(pid: int) -> bool:
    return pid == SUPERVISOR


NORMALISER_SPEC = {"name": "market-data", "daemons": [{"name": "normaliser", "kind": "normaliser", "replicas": 2}]}


def test_a_running_daemon_with_fresh_heartbeats_and_running_servers_is_healthy() -> None:
    health = evaluate([deployment([replica()])], NOW, alive)
    assert health.healthy and health.running and health.exit_code == EXIT_HEALTHY and health.problems == []
    (daemon,) = health.deployments[0].daemons
    assert (daemon.state, daemon.heartbeat_age_s, daemon.missed_heartbeats, daemon.lag) == ("running", 1.0, 0, 12)
    assert "healthy" in render(health)


def test_a_daemon_is_silent_after_three_missed_heartbeats() -> None:
    assert daemon_health(replica(heartbeat_at=NOW - 14.9), NOW, True).state == "running"
    silent = daemon_health(replica(heartbeat_at=NOW - 15.1), NOW, True)
    assert silent.state == "silent" and not silent.healthy and silent.missed_heartbeats == 3
    assert "last heartbeat 15.1s ago (expected every 5s)" in silent.problem
    # the interval is the daemon's own: at 1 s, four seconds of quiet is already silence
    assert daemon_health(replica(heartbeat_at=NOW - 4, heartbeat_interval_s=1.0), NOW, True).state == "silent"


def test_when_the_broker_is_gone_no_heartbeat_arrives_and_every_daemon_turns_silent() -> None:
    replicas = [
        replica(heartbeat_at=NOW - 40),
        replica(name="sink", instance="sink-0", pid=101, heartbeat_pid=101, heartbeat_at=NOW - 41),
    ]
    servers = [server(state="restarting", pid=0, down_since=NOW - 42, next_start=NOW + 3, last_error="killed by SIGKILL")]
    health = evaluate([deployment(replicas, servers)], NOW, alive)
    assert health.exit_code == EXIT_UNHEALTHY
    assert [d.state for d in health.deployments[0].daemons] == ["silent", "silent"]
    (kafka,) = health.deployments[0].servers
    assert (kafka.state, kafka.down_for_s, kafka.restart_in_s, kafka.healthy) == ("restarting", 42.0, 3.0, False)
    assert health.problems[0] == "market-data: kafka: down for 42.0s (killed by SIGKILL); restarting in 3.0s"


def test_a_new_process_is_starting_until_its_first_heartbeat_then_silent_after_the_grace() -> None:
    # the heartbeat on record is the previous process's: it does not speak for the new one
    fresh = replica(pid=300, started_at=NOW - 10, heartbeat_pid=100)
    assert (daemon_health(fresh, NOW, True).state, daemon_health(fresh, NOW, True).lag) == ("starting", None)
    late = replica(pid=300, started_at=NOW - 61, heartbeat_pid=100)
    assert daemon_health(late, NOW, True).state == "silent"
    assert daemon_health(late, NOW, True, HealthPolicy(start_grace_s=120)).state == "starting"


def test_restarting_failed_completed_and_blocked_daemons() -> None:
    restarting = daemon_health(
        replica(
            state="backoff", pid=0, last_exit_code=1, last_error="exited with status 1: RuntimeError: boom", next_start=NOW + 2
        ),
        NOW,
        True,
    )
    assert restarting.state == "restarting" and restarting.restart_in_s == 2.0
    assert restarting.problem == "exited with status 1: RuntimeError: boom; restarting in 2.0s"
    failed = daemon_health(replica(state="failed", pid=0, failed_reason="more than 10 restarts within 600s"), NOW, True)
    assert failed.state == "failed" and "more than 10 restarts" in failed.problem
    completed = daemon_health(replica(state="completed", pid=0, last_exit_code=0), NOW, True)
    assert completed.state == "completed" and completed.healthy
    blocked = daemon_health(replica(heartbeat_state="blocked", last_error="store_retry: connection refused"), NOW, True)
    assert blocked.state == "blocked" and blocked.problem == "blocked: store_retry: connection refused"


def test_lag_is_growing_only_if_it_never_fell_over_the_window_and_rose_enough() -> None:
    # a consumer that takes 200 messages/s while 300 arrive: 100 more behind every second
    rising = [(NOW - 30 + 5 * i, 1_000 + 500 * i, 1_000 * i) for i in range(7)]
    assert lag_growing(rising, window_s=30, min_growth=100)
    assert not lag_growing(rising[:2], window_s=30, min_growth=100)  # too few samples
    assert not lag_growing(rising[-3:], window_s=30, min_growth=100)  # ten seconds: a burst, maybe
    assert not lag_growing(rising, window_s=30, min_growth=5_000)  # rose by only 3,000
    worked_off = [*rising[:3], (NOW - 15, 900, 3_000), *rising[4:]]
    assert not lag_growing(worked_off, window_s=30, min_growth=100)
    # a busy consumer keeping up: 3,000 messages/s, lag read a moment late wobbles by hundreds
    busy = [(NOW - 30 + 5 * i, 200 + 100 * i, 15_000 * i) for i in range(7)]
    assert not lag_growing(busy, window_s=30, min_growth=100)
    # a consumer that stopped: nothing consumed, any growth counts
    stuck = [(NOW - 30 + 5 * i, 1_000 + 50 * i, 0) for i in range(7)]
    assert lag_growing(stuck, window_s=30, min_growth=100)
    behind = daemon_health(replica(lag_samples=rising, lag=4_000), NOW, True)
    assert behind.lag_growing and behind.state == "running" and not behind.healthy and "falling behind" in behind.problem


def test_server_states_embedded_and_external() -> None:
    assert server_health(server(), NOW, True).healthy
    # up, but its probe has failed for 6 s: it does not answer clients
    hung = server_health(server(probe_ok=False, probe_failing_since=NOW - 6, probe_error="no metadata"), NOW, True)
    assert hung.state == "unresponsive" and not hung.healthy and hung.last_error == "no metadata"
    # a single failed probe is not yet a verdict
    assert server_health(server(probe_ok=False, probe_failing_since=NOW - 1), NOW, True).healthy
    starting = server_health(server(state="starting", restarts=1, down_since=NOW - 25, last_error="killed by SIGKILL"), NOW, True)
    assert starting.state == "starting" and starting.down_for_s == 25.0 and not starting.healthy
    failed = server_health(server(state="failed", restarts=5, last_error="exited with status 1: FATAL"), NOW, True)
    assert failed.state == "failed" and "gave up after 5 restarts" in failed.problem
    external = server(embedded=False, pid=0, state="external")
    assert server_health(external, NOW, True).state == "running"
    gone = server(embedded=False, pid=0, state="external", probe_ok=False, probe_failing_since=NOW - 30, probe_error="refused")
    assert server_health(gone, NOW, True).state == "unreachable"
    assert server_health(server(embedded=False, state="external", probe_ok=None), NOW, True).state == "unknown"


def test_a_dead_or_stuck_supervisor_and_no_deployment_at_all() -> None:
    dead = evaluate([deployment([replica()], supervisor_pid=1)], NOW, alive)
    assert not dead.running and dead.exit_code == EXIT_NOT_RUNNING
    assert dead.deployments[0].daemons[0].state == "unknown"
    assert dead.problems[0] == "market-data: its supervisor (pid 1) is not running"
    stuck = evaluate([deployment([replica()], updated_at=NOW - 30)], NOW, alive)
    assert stuck.exit_code == EXIT_UNHEALTHY and "has not written its status for 30s" in stuck.problems[0]
    nothing = evaluate([], NOW, alive)
    assert nothing.exit_code == EXIT_NOT_RUNNING and nothing.problems == [
        "no deployment is running (start one with `tradeplat up`)"
    ]


def test_the_json_report_has_the_documented_schema() -> None:
    streams = [StreamDeploymentStatus("market-data", True, "spec file", daemons=["normaliser"], spec=NORMALISER_SPEC)]
    health = evaluate([deployment([replica(deployment="market-data")], stream_deployments=streams)], NOW, alive)
    report = json.loads(as_json(health))
    assert report["schema"] == STATUS_SCHEMA == "tradeplat.status/1"
    assert set(report) == {"schema", "checked_at", "healthy", "running", "problems", "deployments"}
    (entry,) = report["deployments"]
    assert set(entry) == {
        "deployment", "supervisor_pid", "supervisor_running", "status_age_s", "healthy", "servers", "daemons", "host",
        "stream_deployments",
    }  # fmt: skip
    assert set(entry["stream_deployments"][0]) == {
        "name", "state", "healthy", "problem", "source", "revision", "operator", "requested_at", "refused", "refused_revision",
        "replicas",
        "replicas_running", "lag", "lag_growing", "restarts", "messages_in", "messages_out", "host", "daemons",
    }  # fmt: skip
    assert set(entry["servers"][0]) == {
        "name", "description", "address", "embedded", "critical", "state", "healthy", "problem", "pid", "restarts",
        "last_exit_code", "last_error", "down_for_s", "restart_in_s",
    }  # fmt: skip
    assert set(entry["daemons"][0]) == {
        "name", "replica", "instance", "kind", "state", "healthy", "problem", "pid", "restarts", "last_exit_code",
        "heartbeat_age_s", "heartbeat_interval_s", "missed_heartbeats", "lag", "lag_growing", "messages_in",
        "messages_out", "errors", "last_error", "last_error_age_s", "restart_in_s", "metrics_port", "log_file",
        "deployment",
    }  # fmt: skip
    # old status files (no servers, no heartbeat times) still read
    old = msgspec.json.encode(deployment([replica()], servers=[]))
    legacy = json.loads(old)
    for key in ("heartbeat_at", "heartbeat_pid", "heartbeat_interval_s", "last_error", "lag_samples", "next_start"):
        legacy["replicas"][0].pop(key)
    legacy.pop("servers")
    decoded = msgspec.json.decode(json.dumps(legacy), type=DeploymentStatus)
    assert evaluate([decoded], NOW, alive).deployments[0].daemons[0].state == "starting"


def test_a_stream_deployment_is_healthy_when_all_the_processes_it_should_run_run_healthy() -> None:
    def judged(running: bool, *replicas: ReplicaStatus, **changes: Any) -> tuple[str, bool, int, int]:
        status = StreamDeploymentStatus("market-data", running, "ctl.deployment", spec=NORMALISER_SPEC, **changes)
        daemons = [daemon_health(r, NOW, True) for r in replicas]
        health = stream_deployment_health(status, daemons)
        return health.state, health.healthy, health.replicas_running, health.replicas

    ours = {"deployment": "market-data"}
    second = {**ours, "replica": 1, "instance": "normaliser-1", "pid": 101, "heartbeat_pid": 101}
    assert judged(True, replica(**ours), replica(**second)) == ("running", True, 2, 2)
    assert judged(True, replica(**ours)) == ("starting", False, 1, 2)  # one of two not started yet
    assert judged(True, replica(**ours), replica(**second, state="pending")) == ("starting", False, 1, 2)
    silent = judged(True, replica(**ours), replica(**second, heartbeat_at=NOW - 60))
    assert silent == ("degraded", False, 1, 2)
    # another deployment's daemons are not its own
    assert judged(True, replica(deployment="other"), replica(**second))[2] == 1
    assert judged(False, replica(**ours, state="stopping")) == ("stopping", False, 0, 0)
    assert judged(False) == ("stopped", True, 0, 0)
    assert judged(False, host="tokyo-1") == ("moved", True, 0, 0)
