"""`tradeplat up` end to end: broker, database and a deployment come up; Ctrl-C or
`tradeplat down` bring everything down with no process left behind."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from platform_streams.embedded.processes import free_port, pid_alive

DEPLOYMENT = """
name: uptest
daemons:
  - name: trades
    kind: synthetic-trades
    config: {output: demo.input, rate: 200, instruments: 10, heartbeat_interval_s: 0.5}
  - name: copy
    kind: passthrough
    config: {inputs: [demo.input], output: demo.output, heartbeat_interval_s: 0.5}
"""


def processes_mentioning(text: str) -> list[int]:
    """PIDs whose command line or environment mentions ``text`` (our state folder)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            blob = (entry / "cmdline").read_bytes() + (entry / "environ").read_bytes()
        except OSError:
            continue
        if text.encode() in blob and pid_alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def wait_for(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.fixture
def platform_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL")}
    env["TRADEPLAT_STATE_DIR"] = str(tmp_path / "state")
    (tmp_path / "deployment.yaml").write_text(DEPLOYMENT)
    return env


def start_up(tmp_path: Path, env: dict[str, str], *extra: str) -> tuple[subprocess.Popen, Path]:
    output = tmp_path / "up.out"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "platform_streams.cli.main",
            "up",
            "--deployment",
            str(tmp_path / "deployment.yaml"),
            "--partitions",
            "3",
            "--ui-port",
            str(free_port()),
            *extra,
        ],  # fmt: skip
        env=env,
        stdout=open(output, "wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    wait_for(lambda: "ready in" in output.read_text() or process.poll() is not None, 240, "`up` to be ready")
    assert process.poll() is None, output.read_text()
    return process, output


def status(env: dict[str, str]) -> tuple[int, dict]:
    """`tradeplat status --json`: its exit status and the health report."""
    result = subprocess.run(
        [sys.executable, "-m", "platform_streams.cli.main", "status", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode in (0, 1, 3), result.stderr
    return result.returncode, json.loads(result.stdout)


def test_up_runs_the_deployment_and_ctrl_c_leaves_no_process(tmp_path: Path, platform_env) -> None:
    up, output = start_up(tmp_path, platform_env)
    try:
        text = output.read_text()
        assert "kafka       127.0.0.1:" in text and "postgres    postgresql://" in text and "migrations  applied" in text
        ui_url = re.search(r"dagster ui  (http://127.0.0.1:\d+)", text).group(1)
        with urllib.request.urlopen(f"{ui_url}/server_info", timeout=10) as response:
            assert json.loads(response.read())["dagster_version"]

        def flowing() -> bool:
            code, health = status(platform_env)
            daemons = health["deployments"][0]["daemons"]
            return code == 0 and all(d["state"] == "running" for d in daemons) and any(d["messages_in"] > 0 for d in daemons)

        wait_for(flowing, 90, "the deployment to process messages")
        assert processes_mentioning(platform_env["TRADEPLAT_STATE_DIR"])
        up.send_signal(signal.SIGINT)
        assert up.wait(timeout=120) == 0
    finally:
        if up.poll() is None:
            up.kill()
    assert "stopped: daemons, broker and database are down." in output.read_text()
    assert processes_mentioning(platform_env["TRADEPLAT_STATE_DIR"]) == []


def test_down_stops_a_running_up_and_cleans_up_after_a_killed_one(tmp_path: Path, platform_env) -> None:
    up, _ = start_up(tmp_path, platform_env, "--no-ui")
    down = [sys.executable, "-m", "platform_streams.cli.main", "down"]
    result = subprocess.run(down, env=platform_env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0 and "stopped" in result.stdout
    assert up.wait(timeout=30) == 0
    assert processes_mentioning(platform_env["TRADEPLAT_STATE_DIR"]) == []
    # an `up` killed with SIGKILL: its children die with it, `down` stops the database it left
    up, _ = start_up(tmp_path, platform_env, "--no-ui")
    up.kill()
    up.wait()
    subprocess.run(down, env=platform_env, capture_output=True, text=True, timeout=180, check=True)
    wait_for(lambda: processes_mentioning(platform_env["TRADEPLAT_STATE_DIR"]) == [], 60, "every process to be gone")
