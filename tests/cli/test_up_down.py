"""`tradeplat up` end to end: broker, database and a deployment come up; Ctrl-C or
`tradeplat down` bring everything down with no process left behind."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.cli.up_process import processes_mentioning, start_up, status
from tests.waiting import wait_until


@pytest.mark.e2e
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

        wait_until(flowing, 90, "the deployment to process messages")
        assert processes_mentioning(platform_env["TRADEPLAT_STATE_DIR"])
        up.send_signal(signal.SIGINT)
        assert up.wait(timeout=120) == 0
    finally:
        if up.poll() is None:
            up.kill()
    assert "stopped: daemons, broker and database are down." in output.read_text()
    assert processes_mentioning(platform_env["TRADEPLAT_STATE_DIR"]) == []


@pytest.mark.e2e
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
    wait_until(lambda: processes_mentioning(platform_env["TRADEPLAT_STATE_DIR"]) == [], 60, "every process to be gone")
