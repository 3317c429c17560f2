"""The stream control plane in-process against a running supervisor and the real broker: the
launch, scale and stop jobs change one deployment while another keeps running, a refused launch
fails its run with the reason, and the stream_health sensor records the topics and deployments."""

from __future__ import annotations

import os
import signal
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from platform_assets.definitions import defs
from platform_assets.jobs.stream_deployments import LaunchDeploymentConfig, ScaleDeploymentConfig, StopDeploymentConfig
from platform_assets.resources.platform_servers import KafkaResource
from platform_assets.resources.stream_control import DeploymentLauncherResource, PlatformStatusResource
from platform_assets.streams.sensor import CONSUMERS_KEEP_UP, DEPLOYMENTS_HEALTHY, stream_health
from platform_assets.streams.topology import STREAM_DEPLOYMENTS_KEY, topic_key
from platform_streams.supervisor.process_supervisor import Supervisor
from platform_streams.supervisor.spec import parse_spec
from platform_streams.topics import DEMO_INPUT_TOPIC, DEMO_OUTPUT_TOPIC
from tests.waiting import wait_until


class RunningSupervisor:
    """A supervisor ticking on a thread of its own (its children die with that thread's process)."""

    def __init__(self, supervisor: Supervisor) -> None:
        self.supervisor = supervisor
        self._stop = threading.Event()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        self.supervisor.start()
        self._started.set()
        try:
            self.supervisor.run_until(self._stop.is_set, tick_s=0.1)
        finally:
            self.supervisor.stop()

    def __enter__(self) -> RunningSupervisor:
        self._thread.start()
        assert self._started.wait(60), "the supervisor did not start"
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(60)


@pytest.fixture
def platform(kafka_bootstrap: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    host = f"test-{uuid.uuid4().hex[:8]}"
    base = parse_spec(
        {
            "name": "feed",
            "daemons": [
                {
                    "name": "feed-trades",
                    "kind": "synthetic-trades",
                    "restart": "always",
                    "config": {"output": DEMO_INPUT_TOPIC, "rate": 200, "instruments": 20, "heartbeat_interval_s": 0.5},
                }
            ],
        }
    )
    supervisor = Supervisor([base], {"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap}, tmp_path, host=host)
    with RunningSupervisor(supervisor):
        yield {
            "launcher": DeploymentLauncherResource(
                kafka_bootstrap_servers=kafka_bootstrap, status_dir=str(tmp_path / "supervisor"), default_host=host
            ),
            "status": PlatformStatusResource(status_dir=str(tmp_path / "supervisor")),
            "kafka": KafkaResource(bootstrap_servers=kafka_bootstrap),
            "supervisor": supervisor,
        }


def copy_daemon(replicas: int = 1) -> dict[str, Any]:
    config = {"inputs": [DEMO_INPUT_TOPIC], "output": DEMO_OUTPUT_TOPIC, "heartbeat_interval_s": 0.5, "group": "copy-test"}
    return {"name": "copy", "kind": "passthrough", "replicas": replicas, "restart": "always", "config": config}


def processes(supervisor: Supervisor, daemon: str) -> list[int]:
    return sorted(r.pid for r in supervisor.replicas if r.spec.name == daemon and r.state == "running")


@pytest.mark.e2e
def test_jobs_launch_scale_and_stop_a_deployment_and_the_sensor_records_it(platform: dict[str, Any]) -> None:
    instance = dg.DagsterInstance.ephemeral()
    resources = {"launcher": platform["launcher"], "status": platform["status"], "kafka": platform["kafka"]}
    supervisor: Supervisor = platform["supervisor"]
    feed_pids = processes(supervisor, "feed-trades")

    launch = defs.get_job_def("launch_deployment").execute_in_process(
        run_config=dg.RunConfig(ops={"launch_stream_deployment": LaunchDeploymentConfig(name="copier", daemons=[copy_daemon()])}),
        resources=resources,
        instance=instance,
    )
    assert launch.success
    launched = launch.output_for_node("launch_stream_deployment")
    assert (launched["state"], launched["processes"]) == ("running", "1/1")
    (observed,) = instance.fetch_observations(STREAM_DEPLOYMENTS_KEY, limit=10).records
    assert observed.asset_observation is not None
    shown = observed.asset_observation.metadata
    assert shown["copier"].value == "running, 1/1 processes, lag 0, 0 restarts" or shown["copier"].value.startswith(
        "running, 1/1"
    )
    assert "| copier | running | 1/1 |" in shown["deployments"].value and shown["unhealthy"].value == "-"

    scale = defs.get_job_def("scale_deployment").execute_in_process(
        run_config=dg.RunConfig(
            ops={"scale_stream_deployment": ScaleDeploymentConfig(deployment="copier", daemon="copy", replicas=2)}
        ),
        resources=resources,
        instance=instance,
    )
    assert scale.success and scale.output_for_node("scale_stream_deployment")["processes"] == "2/2"
    assert len(processes(supervisor, "copy")) == 2

    # the sensor: the topics' throughput and lag, the deployments' health, the checks
    context = dg.build_sensor_context(instance=instance, resources=resources)
    first = stream_health(context)
    assert isinstance(first, dg.SensorResult)
    context.update_cursor(first.cursor)
    second = stream_health(context)
    assert isinstance(second, dg.SensorResult)
    observations = {event.asset_key: event.metadata for event in second.asset_events if isinstance(event, dg.AssetObservation)}
    demo_input = observations[topic_key(DEMO_INPUT_TOPIC)]
    assert demo_input["records"].value > 0 and demo_input["records_per_s"].value >= 0
    assert observations[STREAM_DEPLOYMENTS_KEY]["copier"].value.startswith("running, 2/2 processes")
    assert observations[STREAM_DEPLOYMENTS_KEY]["feed"].value.startswith("running, 1/1 processes")
    checks = {
        (event.asset_key, event.check_name): event for event in second.asset_events if isinstance(event, dg.AssetCheckEvaluation)
    }
    assert checks[(STREAM_DEPLOYMENTS_KEY, DEPLOYMENTS_HEALTHY)].passed
    assert (topic_key(DEMO_INPUT_TOPIC), CONSUMERS_KEEP_UP) in checks

    # a daemon that hangs (SIGSTOP: alive, no heartbeat) fails the deployments' check, naming it
    hung = processes(supervisor, "copy")[0]
    os.kill(hung, signal.SIGSTOP)
    try:
        status = platform["status"]
        wait_until(lambda: not status.health().healthy, 30, "the hung daemon to be silent")
        context.update_cursor(second.cursor)
        third = stream_health(context)
        assert isinstance(third, dg.SensorResult)
        (verdict,) = [
            e for e in third.asset_events if isinstance(e, dg.AssetCheckEvaluation) and e.check_name == DEPLOYMENTS_HEALTHY
        ]
        assert not verdict.passed and "copier: degraded: copy[" in (verdict.description or "")
        assert "silent" in (verdict.description or "")
    finally:
        os.kill(hung, signal.SIGCONT)
    wait_until(lambda: platform["status"].health().healthy, 30, "the daemon to be heard again")

    # a refused launch fails its run with the supervisor's reason; nothing changes
    clash = LaunchDeploymentConfig(name="clash", daemons=[{**copy_daemon(), "name": "feed-trades"}], timeout_s=60)
    refused = defs.get_job_def("launch_deployment").execute_in_process(
        run_config=dg.RunConfig(ops={"launch_stream_deployment": clash}),
        resources=resources,
        instance=instance,
        raise_on_error=False,
    )
    assert not refused.success
    (failure,) = [e for e in refused.all_events if e.event_type_value == "STEP_FAILURE"]
    assert "daemon name 'feed-trades' is used by deployment 'feed'" in str(failure.event_specific_data)

    stop = defs.get_job_def("stop_deployment").execute_in_process(
        run_config=dg.RunConfig(ops={"stop_stream_deployment": StopDeploymentConfig(deployment="copier")}),
        resources=resources,
        instance=instance,
    )
    assert stop.success and stop.output_for_node("stop_stream_deployment")["state"] == "stopped"
    assert processes(supervisor, "copy") == []
    assert processes(supervisor, "feed-trades") == feed_pids  # never touched
