"""Fixtures of the simulator tests: simulators on 127.0.0.1 (ports chosen at run time), real captures, ccxt clients."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import ccxt
import pytest

from platform_streams.simulator import DEFAULT_API_KEY, DEFAULT_API_SECRET, SimulatorConfig, SimulatorThread
from platform_streams.simulator.config import load_simulator_config
from tests.waiting import wait_until  # noqa: F401  (the simulator tests import it from here)

REPOSITORY = Path(__file__).resolve().parents[2]
#: Real exchange captures: the in-repo copy when present, else the shared data set next to the repository.
CAPTURE_DIRECTORIES = (REPOSITORY / "tests" / "data" / "exchanges", REPOSITORY.parent / "shared" / "data" / "exchanges")
EPOCH_MS = 1_700_000_000_000  # 2023-11-14, a fixed simulated start for reproducible runs


def capture_directory() -> Path:
    for directory in CAPTURE_DIRECTORIES:
        if (directory / "binance").is_dir():
            return directory
    raise FileNotFoundError(f"no Binance captures in {[str(d) for d in CAPTURE_DIRECTORIES]}")


def captured_frames(file_name: str, exchange: str = "binance") -> Iterator[tuple[dict[str, Any], str]]:
    """``(record without frame, exact frame text)`` of each line of a capture file (see its INDEX.md)."""
    path = capture_directory() / exchange / file_name
    with gzip.open(path, "rt") if path.suffix == ".gz" else path.open() as lines:
        for line in lines:
            line = line.rstrip("\n")
            if '"frame":' not in line:
                continue
            record = json.loads(line)
            yield {k: v for k, v in record.items() if k != "frame"}, line[line.index('"frame":') + 8 : -1]


def make_config(**values: Any) -> SimulatorConfig:
    """A small, fast simulator: 30 instruments, a fixed epoch, plus any overrides (nested dicts allowed)."""
    base: dict[str, Any] = {"instruments": 30, "rate": 3000.0, "seed": 11, "epoch_ms": EPOCH_MS}
    base.update(values)
    return load_simulator_config(base)


@pytest.fixture
def simulator_factory() -> Iterator[Callable[..., SimulatorThread]]:
    """Starts simulators (each in its own thread and loop) and stops every one of them after the test."""
    started: list[SimulatorThread] = []

    def start(**values: Any) -> SimulatorThread:
        simulator = SimulatorThread(make_config(**values)).start()
        started.append(simulator)
        return simulator

    yield start
    for simulator in started:
        simulator.stop()


@pytest.fixture
def live_simulator(simulator_factory: Callable[..., SimulatorThread]) -> SimulatorThread:
    """A simulator on the real-time clock."""
    return simulator_factory()


def ccxt_options(rest_url: str) -> dict[str, Any]:
    """ccxt.binance settings that point only its URLs (and the options the dagster note lists) at the simulator."""
    return {
        "urls": {"api": {"public": f"{rest_url}/api/v3", "private": f"{rest_url}/api/v3"}},
        "options": {"fetchMarkets": {"types": ["spot"]}, "fetchMargins": False, "fetchCurrencies": False},
        "apiKey": DEFAULT_API_KEY,
        "secret": DEFAULT_API_SECRET,
        "timeout": 10_000,
    }


@pytest.fixture
def sync_binance(live_simulator: SimulatorThread) -> ccxt.binance:
    return ccxt.binance(ccxt_options(live_simulator.urls["binance"].rest))
