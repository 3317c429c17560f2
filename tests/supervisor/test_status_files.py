"""Status files: `tradeplat up` forgets deployments whose supervisor is gone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from platform_streams.supervisor.status import DeploymentStatus, read_statuses, remove_stale, write_status


def test_status_files_of_supervisors_that_are_gone_are_removed(tmp_path: Path) -> None:
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    gone = int(finished.stdout)
    write_status(tmp_path / "demo.json", DeploymentStatus("demo", gone, 0.0, []))
    write_status(tmp_path / "market-data.json", DeploymentStatus("market-data", os.getpid(), 0.0, []))
    assert remove_stale(tmp_path) == ["demo"]
    assert [s.deployment for s in read_statuses(tmp_path)] == ["market-data"]
