"""`tradeplat up` as a subprocess for tests: a small deployment, its status as JSON, the processes it left."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from platform_streams.embedded.processes import free_port, pid_alive
from tests.waiting import wait_until

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


def start_up(
    tmp_path: Path, env: dict[str, str], *extra: str, deployments: tuple[Path, ...] = ()
) -> tuple[subprocess.Popen, Path]:
    """`tradeplat up` of ``deployments`` (default: the small test deployment), until it says it is ready."""
    output = tmp_path / "up.out"
    specs = [arg for path in deployments or (tmp_path / "deployment.yaml",) for arg in ("--deployment", str(path))]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "platform_streams.cli.main",
            "up",
            *specs,
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
    wait_until(lambda: "ready in" in output.read_text() or process.poll() is not None, 240, "`up` to be ready")
    assert process.poll() is None, output.read_text()
    return process, output


def status(env: dict[str, str], *extra: str) -> tuple[int, dict]:
    """`tradeplat status --json`: its exit status and the health report."""
    result = subprocess.run(
        [sys.executable, "-m", "platform_streams.cli.main", "status", "--json", *extra],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode in (0, 1, 3), result.stderr
    return result.returncode, json.loads(result.stdout)
