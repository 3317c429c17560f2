"""The benchmarks run: each script, at a tiny size, ends with its JSON line of figures (their
speed is measured by running them, never asserted here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def last_json(arguments: list[str], timeout_s: float, environment: dict[str, str] | None = None) -> dict:
    result = subprocess.run(
        [sys.executable, *arguments], capture_output=True, text=True, timeout=timeout_s, cwd=BENCHMARKS.parent,
        env={**os.environ, **(environment or {})},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.e2e
def test_the_runtime_benchmark_runs_and_reports_its_figures() -> None:
    figures = last_json(
        [str(BENCHMARKS / "runtime.py"), "--events", "40000", "--runs", "1", "--rate", "500", "--seconds", "3",
         "--warmup-seconds", "2", "--consumer-profile", "latency"],
        300,
    )  # fmt: skip
    assert figures["throughput_eps"] > 0 and 0 < figures["hop_p50_ms"] <= figures["hop_p99_ms"] <= figures["hop_max_ms"]


def test_the_risk_and_processing_benchmarks_run() -> None:
    assert last_json([str(BENCHMARKS / "risk_decisions.py"), "--intents", "200", "--runs", "1"], 120)
    assert last_json([str(BENCHMARKS / "processing.py"), "--trades", "2000", "--runs", "1"], 120)


@pytest.mark.e2e
def test_the_tick_to_order_benchmark_runs_tiny_and_reports_sane_figures() -> None:
    figures = last_json([str(BENCHMARKS / "tick_to_order.py"), "--smoke"], 900)
    assert list(figures) == [
        "platform_p50_ms", "platform_p99_ms", "p50_ms", "p99_ms", "p999_ms", "broker_hop_ms", "throughput_eps", "max_eps",
        "strategies", "rss_mb_per_strategy",
    ]  # fmt: skip
    # max_eps is the highest stepped rate (--smoke steps 300, 600) the stack sustained on this machine
    # at this moment, or 0 if none: a speed, measured by running the benchmark, never asserted here.
    assert figures["strategies"] == 4 and figures["throughput_eps"] > 0 and figures["max_eps"] in (0, 300, 600)
    assert 0 < figures["platform_p50_ms"] <= figures["platform_p99_ms"] and figures["platform_p50_ms"] <= figures["p50_ms"]
    assert figures["p50_ms"] <= figures["p99_ms"] <= figures["p999_ms"] and figures["broker_hop_ms"] >= 0
    assert figures["rss_mb_per_strategy"] >= 0


def test_the_backtest_benchmark_runs_tiny_against_a_real_postgresql(database_url: str) -> None:
    figures = last_json([str(BENCHMARKS / "backtest.py"), "--smoke"], 300, {"DATABASE_URL": database_url})
    assert list(figures) == ["events_per_s", "backtest_30d_100i_s"]
    assert figures["events_per_s"] > 0 and figures["backtest_30d_100i_s"] > 0


def test_the_order_records_benchmark_runs_tiny_against_a_real_postgresql(database_url: str) -> None:
    figures = last_json(
        [str(BENCHMARKS / "order_records.py"), "--orders", "5", "--runs", "2"], 120, {"DATABASE_URL": database_url}
    )
    assert list(figures) == ["one_each_ms", "record_many_ms", "ratio"]
    assert figures["one_each_ms"] > 0 and figures["record_many_ms"] > 0 and figures["ratio"] > 0
