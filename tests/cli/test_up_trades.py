"""`tradeplat up` with the default deployments (market data and trading) trades: `tradeplat status
--json` shows the trading daemons, and a fill and a position reach PostgreSQL within a bounded time.

The default files are used as shipped but for the simulator's fixed ports (free ones here, so a
`make up` running beside the test does not collide) and 100 instruments per exchange instead of
1,000 (the test shares its 2 cores)."""

from __future__ import annotations

import re
import signal
from pathlib import Path

import pytest
import yaml

from platform_streams.cli.commands_stack import DEFAULT_DEPLOYMENTS, TRADING_DEPLOYMENT
from platform_streams.embedded.processes import free_port
from tests.cli.up_process import processes_mentioning, start_up, status
from tests.sinks.sink_harness import fetch
from tests.waiting import wait_until

SIMULATOR_PORTS = ("18100", "18101", "18102", "18103")  # control, Binance, OKX, Kraken in the shipped files


def shipped_deployments_on_free_ports(folder: Path) -> list[Path]:
    ports = {old: str(free_port()) for old in SIMULATOR_PORTS}
    copies = []
    for path in DEFAULT_DEPLOYMENTS:
        text = path.read_text()
        for old, new in ports.items():
            text = text.replace(old, new)
        text = re.sub(r"instruments: 1000\b", "instruments: 100", text)
        copies.append(folder / path.name)
        copies[-1].write_text(text)
    return copies


@pytest.mark.e2e
@pytest.mark.timeout(600)
def test_up_with_the_default_deployments_trades_and_status_shows_the_trading_daemons(tmp_path: Path, platform_env) -> None:
    market_data, trading = shipped_deployments_on_free_ports(tmp_path)
    up, output = start_up(tmp_path, platform_env, "--no-ui", deployments=(market_data, trading))
    try:
        database_url = re.search(r"postgres    (postgresql://\S+)", output.read_text()).group(1)
        trading_daemons = {d["name"] for d in yaml.safe_load(TRADING_DEPLOYMENT.read_text())["daemons"]}

        def trading_daemons_running() -> bool:
            _code, health = status(platform_env)
            (deployment,) = health["deployments"]
            states = {d["name"]: d["state"] for d in deployment["daemons"]}
            return trading_daemons <= states.keys() and all(states[name] == "running" for name in trading_daemons)

        wait_until(trading_daemons_running, 180, "the trading daemons to run")

        def traded() -> bool:
            fills = fetch(database_url, "SELECT count(*) AS n FROM fills")[0]["n"]
            positions = fetch(database_url, "SELECT count(*) AS n FROM positions")[0]["n"]
            return fills > 0 and positions > 0

        wait_until(traded, 240, "a fill and a position in PostgreSQL", interval_s=1.0)
        up.send_signal(signal.SIGINT)
        assert up.wait(timeout=180) == 0
    finally:
        if up.poll() is None:
            up.kill()
    assert processes_mentioning(platform_env["TRADEPLAT_STATE_DIR"]) == []
