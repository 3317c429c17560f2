"""``tradeplat simulate``: prints each exchange's endpoints, serves them, and stops cleanly on SIGINT."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import urllib.request

from tests.simulator.conftest import REPOSITORY


def test_simulate_prints_its_endpoints_serves_and_stops_on_sigint() -> None:
    command = [
        sys.executable,
        "-m",
        "platform_streams.cli.main",
        "simulate",
        "--instruments",
        "20",
        "--rate",
        "200",
        "--seed",
        "3",
    ]
    process = subprocess.Popen(command, cwd=REPOSITORY, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith("Ctrl-C"):
                break
        endpoints = re.search(r"binance\s+REST (http://127\.0\.0\.1:\d+)/api/v3\s+WS (ws://127\.0\.0\.1:\d+)/ws", "".join(lines))
        assert endpoints is not None, lines
        assert json.loads(urllib.request.urlopen(endpoints.group(1) + "/api/v3/ping", timeout=10).read()) == {}
        info = json.loads(urllib.request.urlopen(endpoints.group(1) + "/api/v3/exchangeInfo", timeout=10).read())
        assert len(info["symbols"]) == 20
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0


def test_an_exchange_without_a_protocol_is_a_configuration_error() -> None:
    command = [
        sys.executable,
        "-m",
        "platform_streams.cli.main",
        "simulate",
        "--exchanges",
        "binance,nosuchexchange",
        "--instruments",
        "10",
    ]
    result = subprocess.run(command, cwd=REPOSITORY, capture_output=True, text=True, timeout=60)
    assert (
        result.returncode == 2
        and "nosuchexchange" in result.stderr
        and "available: ['binance', 'kraken', 'okx']" in result.stderr
    )
