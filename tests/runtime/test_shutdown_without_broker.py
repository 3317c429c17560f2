"""A daemon told to stop while its broker is gone still stops: its last commit cannot reach the
broker, so after ``shutdown_timeout_s`` + ``shutdown_grace_s`` it exits non-zero without it, and the
next owner of its partitions reads the uncommitted input again (at least once; downstream dedupes).

Seen for real: ``tradeplat up`` killed with SIGKILL takes its broker with it, and each daemon's
parent-death SIGTERM then left a consumer blocked on its final synchronous commit forever."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from platform_streams.embedded.kafka_broker import EmbeddedKafka
from platform_streams.embedded.paths import kafka_libs_dir
from platform_streams.runtime.lifecycle import EXIT_SHUTDOWN_ABANDONED
from platform_streams.topics import ensure_topics
from tests.kafka_helpers import make_trades, produce_events, read_until
from tests.waiting import wait_until


@pytest.mark.e2e
def test_a_daemon_stopped_while_the_broker_is_down_exits_within_its_bound(tmp_path: Path) -> None:
    broker = EmbeddedKafka(tmp_path / "kafka", kafka_libs_dir())
    broker.start()
    log_path = tmp_path / "daemon.log"
    daemon: subprocess.Popen | None = None
    try:
        ensure_topics(broker.bootstrap_servers, default_partitions=1)
        values = {
            "name": "stop-without-broker", "group": "stop-without-broker", "inputs": ["demo.input"], "output": "demo.output",
            "metrics_port": -1, "heartbeat_interval_s": 0.5, "shutdown_timeout_s": 1.0, "shutdown_grace_s": 2.0,
        }  # fmt: skip
        command = [
            sys.executable,
            "-m",
            "platform_streams.cli.main",
            "daemon",
            "passthrough",
            "--values-json",
            json.dumps(values),
        ]
        env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers}
        with open(log_path, "wb") as log:
            daemon = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        produce_events(broker.bootstrap_servers, "demo.input", make_trades(50))
        wait_until(
            lambda: '"partitions assigned"' in log_path.read_text(), 60, "the daemon to consume", describe=log_path.read_text
        )
        assert len(read_until(broker.bootstrap_servers, "demo.output", lambda got: len(got) >= 50)) >= 50

        broker.kill()
        daemon.send_signal(signal.SIGTERM)  # as its parent's death would (PR_SET_PDEATHSIG)
        code = daemon.wait(timeout=120)  # shutdown_timeout_s + shutdown_grace_s = 3 s, far inside this
    finally:
        if daemon is not None and daemon.poll() is None:
            daemon.kill()
            daemon.wait()
        broker.stop()
    text = log_path.read_text()
    assert code == EXIT_SHUTDOWN_ABANDONED, text[-2000:]
    assert "shutdown did not finish within 3s; exiting without it" in text
