"""The ``exchange-simulator`` daemon kind under the supervisor, and the market-data deployment
`tradeplat up` runs by default: the simulator on its fixed ports, ingestion pointed at them."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from platform_streams.cli.commands_stack import MARKET_DATA_DEPLOYMENT
from platform_streams.embedded.processes import free_port, pid_alive
from platform_streams.supervisor.process_supervisor import Supervisor
from platform_streams.supervisor.spec import load_spec, parse_spec
from tests.waiting import wait_until


def get_json(url: str) -> object | None:
    """The decoded answer, or None while nothing listens yet."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return json.loads(response.read())
    except (urllib.error.URLError, ConnectionError):
        return None


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_the_simulator_runs_supervised_serves_its_ports_and_stops_on_sigterm(kafka_bootstrap, tmp_path: Path) -> None:
    binance, okx, control = free_port(), free_port(), free_port()
    spec = parse_spec(
        {
            "name": "simtest",
            "daemons": [
                {
                    "name": "simulator",
                    "kind": "exchange-simulator",
                    "restart": "always",
                    "config": {
                        "exchanges": ["binance", "okx"], "instruments": 10, "rate": 200, "seed": 3,
                        "ports": {"binance": binance, "okx": okx}, "control_port": control, "heartbeat_interval_s": 0.5,
                        "simulator": {"candle_history_minutes": 5},
                    },
                }
            ],
        }
    )  # fmt: skip
    supervisor = Supervisor(spec, {"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap}, tmp_path)
    supervisor.start()
    try:
        (replica,) = supervisor.replicas
        info = wait_until(
            lambda: replica.state == "running" and get_json(f"http://127.0.0.1:{binance}/api/v3/exchangeInfo"),
            60, "the simulator's REST", between=supervisor.tick, describe=supervisor.status,
        )  # fmt: skip
        assert len(info["symbols"]) == 10
        instruments = get_json(f"http://127.0.0.1:{okx}/api/v5/public/instruments?instType=SPOT")
        assert instruments is not None and len(instruments["data"]) == 10
        # the lifecycle's heartbeats reach the status
        status = wait_until(
            lambda: (replica_status := supervisor.status().replicas[0]).heartbeat_state == "running" and replica_status,
            60, "a running heartbeat", between=supervisor.tick, describe=supervisor.status,
        )  # fmt: skip
        summary = get_json(f"http://127.0.0.1:{control}/_control/ground_truth/summary")
        assert summary is not None and set(summary["exchanges"]) == {"binance", "okx"}
        with urllib.request.urlopen(f"http://127.0.0.1:{status.metrics_port}/metrics", timeout=5) as response:
            assert b"platform_simulator_lag_seconds" in response.read()
        pid = replica.process.pid
    finally:
        supervisor.stop(grace_s=30)
    assert replica.process.returncode == 0 and replica.restarts == 0
    assert not pid_alive(pid)
    assert not listening(binance) and not listening(okx) and not listening(control)


def test_the_default_deployment_runs_the_simulator_and_points_ingestion_at_it() -> None:
    spec = load_spec(MARKET_DATA_DEPLOYMENT)
    daemons = {daemon.name: daemon for daemon in spec.daemons}
    (simulator,) = [d for d in spec.daemons if d.kind == "exchange-simulator"]
    ports = simulator.config["ports"]
    assert simulator.config["instruments"] == 1000 and set(ports) == {"binance", "okx", "kraken"}
    ingestion = [d for d in spec.daemons if d.kind == "ingestion"]
    assert {d.config["exchange"] for d in ingestion} == set(ports)
    for daemon in ingestion:
        port = ports[daemon.config["exchange"]]
        assert urlsplit(daemon.config["rest_url"]).port == port and urlsplit(daemon.config["ws_url"]).port == port
    assert daemons["ingest-binance"].replicas >= 2
    # each ingestion normalises its own frames: no normaliser daemon may read them too (every event twice)
    assert all(d.config["normalise"] for d in ingestion) and "normaliser" not in {d.kind for d in spec.daemons}
    assert {"postgres-sink", "raw-archive"} <= {d.kind for d in spec.daemons}
