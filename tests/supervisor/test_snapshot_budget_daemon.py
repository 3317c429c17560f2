"""The ``snapshot-budget`` daemon kind under the supervisor: serves clients that asked before it
listened, comes back from a SIGKILL with the waiting requests granted, exposes its metrics and
removes its socket on SIGTERM; and the market-data deployment points every ingestion daemon at it."""

from __future__ import annotations

import asyncio
import os
import signal
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from platform_streams.cli.commands_stack import MARKET_DATA_DEPLOYMENT
from platform_streams.embedded.processes import pid_alive
from platform_streams.ingestion.snapshot_budget_client import SnapshotBudgetClient
from platform_streams.ingestion.snapshot_budget_service import budget_socket_path
from platform_streams.settings import ConfigError
from platform_streams.simulator import SimulatorThread
from platform_streams.simulator.config import load_simulator_config
from platform_streams.supervisor.process_supervisor import Supervisor
from platform_streams.supervisor.spec import load_spec, parse_spec
from tests.waiting import wait_until, wait_until_async


def budget_spec(**config: object) -> dict:
    daemon = {"name": "snapshot-budget", "kind": "snapshot-budget", "restart": "always", "config": config}
    return {"name": "budgettest", "daemons": [daemon]}


def metrics_text(port: int) -> str | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            return response.read().decode()
    except (urllib.error.URLError, ConnectionError):
        return None


def test_the_snapshot_budget_runs_supervised_survives_a_kill_and_stops_leaving_no_socket(kafka_bootstrap, tmp_path: Path) -> None:
    socket_path = tmp_path / "budget.sock"
    spec = parse_spec(budget_spec(
        exchanges=["binance", "okx"], socket=str(socket_path), heartbeat_interval_s=0.5,
        limits={"binance": {"weight": 10, "window_s": 60}},  # 2 at once, then 2 more after ~17 s
    ))  # fmt: skip
    supervisor = Supervisor(spec, {"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap}, tmp_path)
    (replica,) = supervisor.replicas

    async def until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
        await wait_until_async(lambda: supervisor.tick() or condition(), timeout_s, f"{what} ({supervisor.status()})", 0.1)

    async def scenario() -> None:
        client = SnapshotBudgetClient(socket_path, connect_timeout_s=60)
        try:
            first = asyncio.create_task(client.acquire("binance", 2))  # before the service exists
            await asyncio.sleep(0)
            supervisor.start()
            await until(first.done, 60, "the first grant")
            first.result()
            await until(lambda: supervisor.status().replicas[0].heartbeat_state == "running", 60, "a heartbeat")
            waiting = asyncio.create_task(client.acquire("binance", 2))  # the bucket is empty: this one waits
            await until(lambda: supervisor.status().replicas[0].messages_in >= 2, 30, "the second request queued")
            assert not waiting.done()
            assert replica.process is not None
            os.kill(replica.process.pid, signal.SIGKILL)
            await until(waiting.done, 60, "the waiting request granted by the restarted service")
            waiting.result()
            assert replica.restarts == 1
            await until(lambda: metrics_text(replica.metrics_port) is not None, 30, "the restarted service's metrics")
            text = metrics_text(replica.metrics_port) or ""
            assert 'platform_snapshot_budget_grants_total{daemon="snapshot-budget",exchange="binance"} 1.0' in text
            assert 'platform_snapshot_budget_granted_weight_total{daemon="snapshot-budget",exchange="binance"} 2.0' in text
            assert 'platform_snapshot_budget_waiting_requests{daemon="snapshot-budget",exchange="okx"} 0.0' in text
            assert 'platform_snapshot_budget_clients{daemon="snapshot-budget"} 1.0' in text
        finally:
            await client.close()

    try:
        asyncio.run(scenario())
        assert replica.process is not None
        pid = replica.process.pid
    finally:
        supervisor.stop(grace_s=30)
    assert replica.process.returncode == 0
    assert not pid_alive(pid)
    assert not socket_path.exists()


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"exchanges": ["binance", "bitmex"]}, r"no exchange adapter for \['bitmex'\]"),
        ({"exchanges": []}, "exchanges is empty"),
        ({"exchanges": ["binance"], "limits": {"okx": {"weight": 20, "window_s": 2}}}, r"limits given for \['okx'\]"),
        ({"exchanges": ["binance"], "limits": {"binance": {"weight": 0, "window_s": 60}}}, "must be positive"),
        ({"exchanges": ["binance"], "safety": 0.1}, "burst < safety"),
        ({"exchanges": ["binance"], "socket": "/tmp/" + "x" * 120}, "longer than a unix socket path"),
    ],
)
def test_bad_budget_settings_fail_when_the_spec_is_loaded(config: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_spec(budget_spec(**config))


def test_the_default_deployment_shares_one_budget_between_its_ingestion_daemons() -> None:
    spec = load_spec(MARKET_DATA_DEPLOYMENT)
    (budget,) = [d for d in spec.daemons if d.kind == "snapshot-budget"]
    assert budget.replicas == 1  # a second service on the host would be a second budget
    socket = budget_socket_path(budget.config.get("socket", "snapshot-budget.sock"))
    ingestion = [d for d in spec.daemons if d.kind == "ingestion"]
    assert any(d.replicas > 1 for d in ingestion)  # the shards that would otherwise each spend the whole weight
    for daemon in ingestion:
        assert budget_socket_path(daemon.config["budget_socket"]) == socket, daemon.name
        assert daemon.config["exchange"] in budget.config["exchanges"], daemon.name


def test_an_ingestion_daemon_whose_exchange_the_service_does_not_budget_exits_with_the_reason(
    kafka_bootstrap, topic_factory, tmp_path: Path
) -> None:
    """No retry can get such a snapshot: rather than leave its books without one, the daemon exits
    (the supervisor's restarts show it) and its log says why."""
    socket_path = tmp_path / "budget.sock"
    config = load_simulator_config({"exchanges": ["binance"], "instruments": 5, "rate": 50, "seed": 5})
    with SimulatorThread(config) as sim:
        urls = sim.urls["binance"]
        spec = parse_spec({"name": "refused", "daemons": [
            {"name": "snapshot-budget", "kind": "snapshot-budget", "restart": "always",
             "config": {"exchanges": ["okx"], "socket": str(socket_path)}},
            {"name": "ingest-binance", "kind": "ingestion", "restart": "on-failure",
             "config": {"exchange": "binance", "rest_url": urls.rest, "ws_url": urls.websocket, "budget_socket": str(socket_path),
                        "raw_topic": topic_factory("raw"), "instrument_topic": topic_factory("instr"),
                        "resync_topic": topic_factory("resync")}},
        ]})  # fmt: skip
        supervisor = Supervisor(spec, {"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap}, tmp_path)
        supervisor.start()
        try:
            ingestion = supervisor.replicas[1]
            wait_until(
                lambda: ingestion.last_exit_code is not None, 90, "ingestion to exit",
                between=supervisor.tick, describe=supervisor.status, interval_s=0.2,
            )  # fmt: skip
        finally:
            supervisor.stop(grace_s=30)
    assert ingestion.last_exit_code != 0
    log_text = ingestion.log_file.read_text()
    assert "a book cannot get its snapshot" in log_text and "no request budget for exchange 'binance'" in log_text
