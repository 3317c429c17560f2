"""A daemon's /metrics port: the supervisor picks one before the process starts, so something
else may take it meanwhile (an outgoing connection's ephemeral port). A port picked for the
daemon then falls back to any free one, reported in its heartbeats; a port the user configured
is never swapped silently."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from platform_streams.runtime.lifecycle import BaseSettings, DaemonLifecycle
from platform_streams.schemas import Heartbeat
from platform_streams.supervisor.backoff import RestartBudget
from platform_streams.supervisor.replica import Replica
from platform_streams.supervisor.spec import parse_spec


def taken_port() -> socket.socket:
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    return holder


def test_a_picked_port_taken_since_falls_back_to_a_free_one_and_a_configured_one_fails() -> None:
    with taken_port() as holder:
        port = holder.getsockname()[1]
        picked = DaemonLifecycle(
            BaseSettings(name="m", bootstrap_servers="127.0.0.1:1", metrics_port=port, metrics_port_fallback=True)
        )
        picked.serve_metrics()
        assert picked.metrics_port not in (port, -1, 0)
        with urllib.request.urlopen(f"http://127.0.0.1:{picked.metrics_port}/metrics", timeout=10) as response:
            assert b"platform_runtime" in response.read()
        configured = DaemonLifecycle(BaseSettings(name="m", bootstrap_servers="127.0.0.1:1", metrics_port=port))
        with pytest.raises(OSError):
            configured.serve_metrics()


def test_the_supervisor_shows_the_port_the_running_process_reports() -> None:
    (spec,) = parse_spec(
        {"name": "d", "daemons": [{"name": "sink", "kind": "passthrough", "config": {"inputs": ["a"], "output": "b"}}]}
    ).daemons
    replica = Replica(spec, 0, Path("/dev/null"), 40_001, RestartBudget(3, 60.0))
    assert '"metrics_port_fallback": true' in replica.command()[-1]
    process = subprocess.Popen(["sleep", "30"])
    try:
        replica.started(process)  # type: ignore[arg-type]

        def beat(pid: int, port: int) -> Heartbeat:
            return Heartbeat(daemon="sink", instance="sink-0", host="h", pid=pid, ts_ns=time.time_ns(), state="running",
                             group="", lags=[], messages_in=0, messages_out=0, errors=0, metrics_port=port, interval_s=5.0)  # fmt: skip

        replica.absorb(beat(process.pid + 1, 40_003))  # a process gone before this one: not where it serves
        assert replica.status().metrics_port == 40_001
        replica.absorb(beat(process.pid, 40_002))
        assert replica.status().metrics_port == 40_002
    finally:
        process.kill()
        process.wait()
