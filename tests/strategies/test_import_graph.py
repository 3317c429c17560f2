"""Strategies are plain Python: importing every strategy module pulls in neither Kafka nor Dagster."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_strategies_import_neither_kafka_nor_dagster(repo_root: Path) -> None:
    modules = sorted(
        "strategies." + ".".join(path.relative_to(repo_root / "strategies").with_suffix("").parts)
        for path in (repo_root / "strategies").rglob("*.py")
        if path.name != "__init__.py"
    )
    assert "strategies.ema_crossover" in modules and "strategies.backtest.runner" in modules
    probe = (
        f"import importlib, sys\nfor name in {modules!r}: importlib.import_module(name)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules if m.split('.')[0] in ('confluent_kafka', 'dagster', 'kafka', 'aiokafka')}))"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=repo_root, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
