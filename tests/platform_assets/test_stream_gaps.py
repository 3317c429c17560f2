"""Where the stream lost data, as the gap repair sees it: book resyncs name their instruments, dead
letters the instrument they are keyed by (or the whole exchange for a connection's frame), and a
silent, restarting or failed ingestion daemon its whole exchange today."""

from __future__ import annotations

from datetime import UTC, datetime

from platform_assets.market_data.stream_gaps import StreamGap, dead_letter_gaps, resync_gaps, silent_feed_gaps
from platform_streams.schemas import SnapshotRequest
from platform_streams.supervisor.health import DaemonHealth, DeploymentHealth, PlatformHealth
from platform_streams.supervisor.status import DeploymentStatus, StreamDeploymentStatus

EXCHANGES = ("binance", "okx", "kraken")
HOUR = 3_600_000_000_000


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def ns(text: str) -> int:
    return int(at(text).timestamp()) * 1_000_000_000


def test_resyncs_become_one_gap_per_day_and_exchange_with_their_instruments() -> None:
    requests = [
        SnapshotRequest("binance", "BTCUSDT", "c0", "gap", ns("2026-11-15T10:00:00")),
        SnapshotRequest("binance", "ETHUSDT", "c0", "gap", ns("2026-11-15T12:30:00")),
        SnapshotRequest("binance", "BTCUSDT", "c0", "gap", ns("2026-11-16T00:00:01")),
        SnapshotRequest("bitmex", "XBTUSD", "c0", "gap", ns("2026-11-15T10:00:00")),  # no candles of it
    ]
    assert resync_gaps(requests, EXCHANGES) == [
        StreamGap("2026-11-15", "binance", "resync", ns("2026-11-15T12:30:00") // HOUR, frozenset({"BTCUSDT", "ETHUSDT"})),
        StreamGap("2026-11-16", "binance", "resync", ns("2026-11-16T00:00:01") // HOUR, frozenset({"BTCUSDT"})),
    ]


def test_dead_letters_name_their_instrument_or_else_the_whole_exchange() -> None:
    rows = [
        ("okx", b"okx:BTC/USDT", at("2026-11-15T08:00:00")),
        ("okx", b"okx:ETH/USDT", at("2026-11-15T09:00:00")),
        ("kraken", b"kraken-conn-2", at("2026-11-15T09:00:00")),  # a raw frame of a whole connection
        ("kraken", None, at("2026-11-15T09:10:00")),
        ("", b"x", at("2026-11-15T09:00:00")),
    ]
    gaps = {(g.day, g.exchange): g for g in dead_letter_gaps(rows, EXCHANGES)}
    assert set(gaps) == {("2026-11-15", "okx"), ("2026-11-15", "kraken")}
    assert gaps[("2026-11-15", "okx")].symbols == {"BTC/USDT", "ETH/USDT"} and not gaps[("2026-11-15", "okx")].whole_exchange
    assert gaps[("2026-11-15", "kraken")].whole_exchange and gaps[("2026-11-15", "kraken")].cause == "sink"


def daemon(name: str, kind: str, state: str) -> DaemonHealth:
    return DaemonHealth(
        name, 0, f"{name}-0", kind, state, state == "running", "" if state == "running" else state, 1, 0, None, 1.0,
        5.0, 0, 0, False, 0, 0, 0, "", None, None, None, "",
    )  # fmt: skip


def test_a_silent_or_failing_ingestion_daemon_is_a_gap_of_its_whole_exchange_today() -> None:
    spec = {"name": "market-data", "daemons": [
        {"name": "ingest-binance", "kind": "ingestion", "config": {"exchange": "binance"}},
        {"name": "ingest-okx", "kind": "ingestion", "config": {"exchange": "okx"}},
        {"name": "sink", "kind": "postgres-sink", "config": {}},
    ]}  # fmt: skip
    statuses = [
        DeploymentStatus(
            "market-data", 1, 0.0, [], stream_deployments=[StreamDeploymentStatus("market-data", True, "spec file", spec=spec)]
        )
    ]
    daemons = [daemon("ingest-binance", "ingestion", "silent"), daemon("ingest-okx", "ingestion", "running"),
               daemon("sink", "postgres-sink", "failed")]  # fmt: skip
    health = PlatformHealth("v1", 0.0, False, True, [], [DeploymentHealth("market-data", 1, True, 0.0, False, [], daemons)])
    now = ns("2026-12-07T07:15:00")
    assert silent_feed_gaps(statuses, health, now) == [
        StreamGap("2026-12-07", "binance", "silent", now // HOUR, whole_exchange=True)
    ]
    daemons[0] = daemon("ingest-binance", "ingestion", "running")
    assert silent_feed_gaps(statuses, health, now) == []
