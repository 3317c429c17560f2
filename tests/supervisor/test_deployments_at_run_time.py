"""Deployments launched, rescaled, replaced and stopped while the supervisor runs, through
ctl.deployment on the real broker, with real child processes: the other daemons keep running
untouched, a refused request is reported, and requests made before the start are restored."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from platform_streams.embedded.processes import pid_alive
from platform_streams.supervisor.deployment_requests import latest_requests, request_deployment
from platform_streams.supervisor.health import evaluate
from platform_streams.supervisor.process_supervisor import Supervisor
from platform_streams.supervisor.spec import DeploymentSpec, parse_spec
from platform_streams.supervisor.status import read_statuses
from platform_streams.supervisor.status_render import render
from tests.waiting import wait_until


def copy_deployment(name: str, daemon: str, source: str, sink: str, replicas: int = 1, group: str = "") -> DeploymentSpec:
    config = {
        "inputs": [source],
        "output": sink,
        "heartbeat_interval_s": 0.5,
        "group": group or f"g-{daemon}-{uuid.uuid4().hex[:6]}",
    }
    return parse_spec(
        {
            "name": name,
            "daemons": [{"name": daemon, "kind": "passthrough", "replicas": replicas, "restart": "always", "config": config}],
        }
    )


@pytest.mark.e2e
def test_deployments_change_at_run_time_while_the_others_keep_running(kafka_bootstrap, topic_factory, tmp_path: Path) -> None:
    source, sink = topic_factory("rt-in"), topic_factory("rt-out")
    host = f"test-{uuid.uuid4().hex[:8]}"  # the shared broker's ctl.deployment: only this test's requests are for it
    base = copy_deployment("base", "base-copy", source, sink)
    # asked for before the supervisor starts: restored at its start
    request_deployment(kafka_bootstrap, "early", copy_deployment("early", "early-copy", source, sink), host, "alice")
    supervisor = Supervisor([base], {"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap}, tmp_path, host=host)
    supervisor.start()

    def replicas(daemon: str) -> list:
        return [r for r in supervisor.replicas if r.spec.name == daemon]

    def running(daemon: str, count: int) -> bool:
        mine = replicas(daemon)
        return len(mine) == count and all(r.state == "running" and r.heartbeat and r.heartbeat.pid == r.pid for r in mine)

    def settle(condition, what: str) -> None:
        wait_until(condition, 60, what, between=supervisor.tick, describe=lambda: render(health()))

    def health():
        supervisor.write_status()
        return evaluate(read_statuses(tmp_path / "supervisor"), time.time(), pid_alive)

    try:
        assert {r.spec.name for r in supervisor.replicas} == {"base-copy", "early-copy"}
        settle(lambda: running("base-copy", 1) and running("early-copy", 1), "the base and the restored deployment")
        base_pid = replicas("base-copy")[0].pid

        extra = copy_deployment("extra", "extra-copy", source, sink)
        launched = request_deployment(kafka_bootstrap, "extra", extra, host, "alice")
        settle(lambda: running("extra-copy", 1), "the launched deployment")
        first_pid = replicas("extra-copy")[0].pid
        (deployment,) = [d for d in health().deployments[0].stream_deployments if d.name == "extra"]
        assert (deployment.state, deployment.revision, deployment.operator) == ("running", launched.revision, "alice")
        assert deployment.replicas == deployment.replicas_running == 1 and deployment.daemons == ["extra-copy"]

        # two replicas of the same consumer group: the first keeps running, one more starts
        group = extra.daemons[0].config["group"]
        scaled = copy_deployment("extra", "extra-copy", source, sink, replicas=2, group=group)
        request_deployment(kafka_bootstrap, "extra", scaled, host, "alice")
        settle(lambda: running("extra-copy", 2), "the second replica")
        assert replicas("extra-copy")[0].pid == first_pid

        # new settings: the replicas are replaced (stopped, then started with them)
        changed = copy_deployment("extra", "extra-copy", source, sink, replicas=2)
        request_deployment(kafka_bootstrap, "extra", changed, host, "alice")
        settle(lambda: running("extra-copy", 2) and first_pid not in {r.pid for r in replicas("extra-copy")}, "the replacement")
        assert not pid_alive(first_pid)

        # a daemon name another deployment uses: refused, reported, nothing changes
        clash = copy_deployment("clash", "base-copy", source, sink)
        request_deployment(kafka_bootstrap, "clash", clash, host, "bob")
        settle(lambda: "clash" in supervisor.desired and supervisor.desired["clash"].error != "", "the refusal")
        (refused,) = [d for d in health().deployments[0].stream_deployments if d.name == "clash"]
        assert "daemon name 'base-copy' is used by deployment 'base'" in refused.refused and refused.state == "stopped"
        assert "request refused" in render(health())

        # stop: its daemons exit and leave the status; the others never noticed
        stopped_pids = [r.pid for r in replicas("extra-copy")]
        request_deployment(kafka_bootstrap, "extra", None, host, "alice")
        settle(lambda: not replicas("extra-copy"), "the stopped deployment's daemons to exit")
        assert not any(pid_alive(pid) for pid in stopped_pids)
        report = health()
        (stopped,) = [d for d in report.deployments[0].stream_deployments if d.name == "extra"]
        assert stopped.state == "stopped" and stopped.healthy
        assert replicas("base-copy")[0].pid == base_pid and running("early-copy", 1)
        settle(lambda: health().healthy, "a healthy platform")
        assert latest_requests(kafka_bootstrap)["extra"].running is False
    finally:
        supervisor.stop()
    assert all(r.state == "stopped" for r in supervisor.replicas)
