"""The environment of a `tradeplat up` of a test's own: its state folder, embedded servers, a small deployment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.cli.up_process import DEPLOYMENT


@pytest.fixture
def platform_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL")}
    env["TRADEPLAT_STATE_DIR"] = str(tmp_path / "state")
    (tmp_path / "deployment.yaml").write_text(DEPLOYMENT)
    return env
