"""Where the embedded stack keeps its files: the repository's git-ignored folders by default."""

from __future__ import annotations

import os
from pathlib import Path

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]


def state_dir() -> Path:
    """Folder for broker data, PostgreSQL data, logs and pid files (``$TRADEPLAT_STATE_DIR``)."""
    return Path(os.environ.get("TRADEPLAT_STATE_DIR", REPOSITORY_ROOT / "state")).resolve()


def kafka_libs_dir() -> Path:
    """Folder of Kafka's jars, filled by ``make setup`` from Maven Central (``$TRADEPLAT_KAFKA_LIBS``)."""
    return Path(os.environ.get("TRADEPLAT_KAFKA_LIBS", REPOSITORY_ROOT / ".embedded" / "kafka" / "libs")).resolve()
